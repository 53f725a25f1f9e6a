import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason } from "./element-harness.js";
import { hookInTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;
const script = elementFile("dpkg", "post-install.d", "99-zy-initramfs-compression");
const written = "etc/initramfs-tools/conf.d/90-dib-compress";
const installs = "var/log/fake-install-packages.log";

/*
 * The dpkg element's choice of initramfs compressor, run in a minbase tree with recording
 * stand-ins for install-packages (it "installs" a program by writing it) and apt-cache (it
 * knows the packages listed in /etc/fake-apt-packages); the real apt and initramfs-tools
 * are exercised by the image builds (test/e2e/debian-images.test.ts).
 */
describe.runIf(isRoot && haveMinbase)(`initramfs compression (dpkg element)${reason}`, () => {
  const { root } = useMinbaseTree("initramfs-compress");

  function file(rel: string, text: string, mode = 0o644) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
    chmodSync(join(root, rel), mode);
  }

  /** A tree where an initramfs build waits and initramfs.conf says `compress`. */
  function setUp(compress: string, aptKnows: string[] = ["zstd", "lz4"]) {
    for (const rel of [written, installs, "usr/local/bin/zstd", "usr/local/bin/lz4"]) {
      rmSync(join(root, rel), { force: true });
    }
    file("var/lib/dib-build/update-initramfs-requests", "c|6.1.0-1-amd64|/boot\n");
    file("etc/initramfs-tools/initramfs.conf", `MODULES=most\nCOMPRESS=${compress}\n`);
    file("etc/fake-apt-packages", aptKnows.map((p) => `${p}\n`).join(""));
    file(
      "usr/local/bin/install-packages",
      `#!/bin/sh\necho "$*" >>/${installs}\nfor p in "$@"; do printf '#!/bin/sh\\n' >/usr/local/bin/$p; chmod +x /usr/local/bin/$p; done\n`,
      0o755,
    );
    file(
      "usr/local/bin/apt-cache",
      `#!/bin/sh\n[ "$1" = show ] && grep -qx "$2" /etc/fake-apt-packages\n`,
      0o755,
    );
  }

  const run = (env: Record<string, string> = {}) => hookInTree(root, script, env);
  const conf = () =>
    existsSync(join(root, written)) ? readFileSync(join(root, written), "utf8") : "";
  const installed = () =>
    existsSync(join(root, installs)) ? readFileSync(join(root, installs), "utf8") : "";

  it("where the release chose zstd, installs zstd and sets level 3", async () => {
    setUp("zstd");
    const r = await run();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("initramfs compression: zstd level 3");
    expect(installed()).toBe("zstd\n");
    expect(conf()).toMatch(/^COMPRESS=zstd\nCOMPRESSLEVEL=3\n$/m);
    // zstd is there now: nothing is installed a second time, and the level stays
    expect((await run()).exitCode).toBe(0);
    expect(installed()).toBe("zstd\n");
    expect(conf()).toMatch(/^COMPRESS=zstd\nCOMPRESSLEVEL=3\n$/m);
  });

  it("keeps a level set in conf.d, and DIB_INITRAMFS_COMPRESSLEVEL wins over it", async () => {
    setUp("zstd");
    file("etc/initramfs-tools/conf.d/50-local", "COMPRESSLEVEL=19\n");
    expect((await run()).exitCode).toBe(0);
    expect(conf()).not.toMatch(/^COMPRESSLEVEL=/m);
    expect((await run({ DIB_INITRAMFS_COMPRESSLEVEL: "5" })).exitCode).toBe(0);
    expect(conf()).toContain("COMPRESSLEVEL=5\n");
    rmSync(join(root, "etc/initramfs-tools/conf.d/50-local"));
  });

  it("leaves a release that chose gzip, sources without zstd, keep and an empty queue alone", async () => {
    for (const [compress, env, apt] of [
      ["gzip", {}, ["zstd"]],
      ["zstd", {}, []],
      ["zstd", { DIB_INITRAMFS_COMPRESS: "keep" }, ["zstd"]],
    ] as const) {
      setUp(compress, [...apt]);
      const r = await run(env);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(conf()).toBe("");
      expect(installed()).toBe("");
      if (apt.length === 0) expect(r.stdout).toContain("zstd is not in the image's apt sources");
    }
    setUp("zstd");
    rmSync(join(root, "var/lib/dib-build/update-initramfs-requests"));
    expect((await run()).exitCode).toBe(0);
    expect(conf()).toBe("");
  });

  it("DIB_INITRAMFS_COMPRESS picks another compressor; a wrong one stops the build", async () => {
    setUp("gzip");
    expect((await run({ DIB_INITRAMFS_COMPRESS: "lz4" })).exitCode).toBe(0);
    expect(installed()).toBe("lz4\n");
    expect(conf()).toMatch(/^COMPRESS=lz4\n$/m);
    const bad = await run({ DIB_INITRAMFS_COMPRESS: "brotli" });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("DIB_INITRAMFS_COMPRESS=brotli: use auto, keep, gzip, zstd");
  });
});
