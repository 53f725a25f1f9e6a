import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Host, LEDGER_FILE, Ledger, mountsBelow } from "@dib/host";
import { cliEntry, isRoot, rootOnlyReason, runCli } from "@dib/test";
import { beforeAll, describe, expect, it } from "vitest";
import { elementFile, runScript } from "./element-harness.js";
import { useCheckedDir } from "./minbase-tree.js";

/**
 * The element hooks that mount into the image tree (dpkg's and yum's package caches,
 * pip-cache, debootstrap's /proc /sys /dev for apt) as a dib build runs them: with
 * DIB_LEDGER_DIR and dib-cli on PATH, so each mount is in the build's ledger before it is
 * made, is released by the hooks that undo it, by `dib-cli cleanup` when the build was
 * killed in between, and stays inside the tree whatever symlinks the tree has. Their plain
 * fallback outside dib is covered by chroot-hooks, rpm-plan, stock-elements-a and
 * ubuntu-plan; here only its refusal of a symlinked mount point.
 */
describe.runIf(isRoot)(`element mounts through the build's ledger${rootOnlyReason}`, () => {
  const work = useCheckedDir("ledger-mounts");
  const host = new Host({ log: () => {} });
  let bin: string;
  let n = 0;

  beforeAll(() => {
    // The real dib-cli from source, as the build's own wrapper puts it on the hooks' PATH.
    bin = join(work.dir, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "dib-cli"),
      `#!/bin/sh\nexec ${process.execPath} --conditions=@dib/source --import ${import.meta.resolve("tsx")} ${cliEntry} "$@"\n`,
    );
    chmodSync(join(bin, "dib-cli"), 0o755);
  });

  /** A build directory with its (empty) ledger and an image tree, as dib has them before root.d. */
  function newBuild() {
    n += 1;
    const build = join(work.dir, `build-${n}`);
    const root = join(build, "mnt");
    const cache = join(work.dir, `image-cache-${n}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(build, LEDGER_FILE), "");
    const env = {
      PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      DIB_LEDGER_DIR: build,
      TARGET_ROOT: root,
      TMP_MOUNT_PATH: root,
      DIB_IMAGE_CACHE: cache,
      DISTRO_NAME: "debian",
      ARCH: "amd64",
      DIB_RELEASE: "9-stream",
      YUM: "dnf",
    };
    const held = () => {
      const ledger = Ledger.open(build, host);
      ledger.close();
      return ledger.held().map((e) => e.resource);
    };
    const hook = async (element: string, phase: string, name: string) => {
      const r = await runScript(elementFile(element, phase, name), [], env);
      expect(r.exitCode, `${element}/${phase}/${name}: ${r.stderr}`).toBe(0);
      return r;
    };
    return { build, root, cache, env, held, hook };
  }
  const mountsIn = (dir: string) => mountsBelow(dir).map((m) => m.target);

  it("dpkg's apt cache: in the ledger from root.d, released in post-root.d; cleanup.d after is nothing to do", async () => {
    const b = newBuild();
    const archives = join(b.root, "var/cache/apt/archives");
    await b.hook("dpkg", "root.d", "50-shared-apt-cache");
    expect(mountsIn(b.root)).toEqual([archives]);
    const cache = join(b.cache, "apt/debian-amd64");
    expect(b.held()).toEqual([{ kind: "mount", target: archives, source: cache, bind: true }]);
    // A retried phase does not stack a second bind.
    await b.hook("dpkg", "root.d", "50-shared-apt-cache");
    expect(mountsIn(b.root)).toEqual([archives]);
    writeFileSync(join(archives, "kept.deb"), "x");
    expect(existsSync(join(cache, "kept.deb"))).toBe(true);

    await b.hook("dpkg", "post-root.d", "99-unmount-apt-cache");
    expect(mountsIn(b.root)).toEqual([]);
    expect(b.held()).toEqual([]);
    await b.hook("dpkg", "cleanup.d", "60-unmount-apt-cache");
    expect(existsSync(join(cache, "kept.deb"))).toBe(true);
  });

  it("a build killed between root.d and post-root.d leaves the apt cache to `dib-cli cleanup`", async () => {
    const b = newBuild();
    await b.hook("dpkg", "root.d", "50-shared-apt-cache");
    // kill -9 of dib-cli here: post-root.d and cleanup.d never run, nothing undoes the
    // ledger in-process. Its build directory is all that is left.
    expect(mountsIn(b.root)).toHaveLength(1);
    const cleanup = await runCli(["cleanup", b.build]);
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`released mount at ${join(b.root, "var/cache/apt/archives")}`);
    expect(mountsIn(b.root)).toEqual([]);
  });

  it("a symlink planted in the tree (var/cache/apt -> a host folder) cannot send the bind outside the tree", async () => {
    const b = newBuild();
    const hostDir = join(work.dir, `host-etc-${n}`);
    mkdirSync(hostDir);
    mkdirSync(join(b.root, "var/cache"), { recursive: true });
    symlinkSync(hostDir, join(b.root, "var/cache/apt"));

    await b.hook("dpkg", "root.d", "50-shared-apt-cache");
    // Where apt in the chroot looks for var/cache/apt/archives: inside the tree.
    const inside = join(b.root, hostDir, "archives");
    expect(mountsIn(b.root)).toEqual([inside]);
    expect(mountsIn(hostDir)).toEqual([]);
    expect(readdirSync(hostDir)).toEqual([]);
    await b.hook("dpkg", "post-root.d", "99-unmount-apt-cache");
    expect(mountsIn(b.root)).toEqual([]);
    expect(b.held()).toEqual([]);

    // Outside dib (no ledger) the plain fallback refuses the symlinked path outright.
    const { DIB_LEDGER_DIR: _, ...plain } = b.env;
    const refused = await runScript(
      elementFile("dpkg", "root.d", "50-shared-apt-cache"),
      [],
      plain,
    );
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("goes through a symlink");
    expect(mountsIn(work.dir)).toEqual([]);
    expect(readdirSync(hostDir)).toEqual([]);
  });

  it("yum's package cache and pip-cache go through the ledger too, and pip's mount point is removed", async () => {
    const b = newBuild();
    const dnf = join(b.root, "var/cache/dnf");
    const pip = join(b.root, "tmp/pip");
    await b.hook("yum", "root.d", "50-yum-cache");
    await b.hook("pip-cache", "root.d", "11-pip-cache");
    expect(mountsIn(b.root).sort()).toEqual([dnf, pip].sort());
    expect(b.held()).toEqual([
      { kind: "mount", target: dnf, source: join(b.cache, "yum/amd64/9-stream"), bind: true },
      { kind: "mount", target: pip, source: join(b.cache, "pip"), bind: true },
    ]);
    await b.hook("pip-cache", "post-root.d", "99-unmount-pip-cache");
    await b.hook("yum", "post-root.d", "99-unmount-yum-cache");
    expect(mountsIn(b.root)).toEqual([]);
    expect(b.held()).toEqual([]);
    expect(existsSync(pip)).toBe(false);
    await b.hook("pip-cache", "cleanup.d", "60-unmount-pip-cache");
    await b.hook("yum", "cleanup.d", "60-unmount-yum-cache");
  });

  it("debootstrap's base install mounts /proc /sys /dev /dev/pts through the ledger and releases them on exit", async () => {
    const b = newBuild();
    // A stand-in chroot: records what is mounted in the tree while apt-get would run.
    const standIns = join(work.dir, `stand-ins-${n}`);
    const seen = join(standIns, "seen");
    mkdirSync(standIns);
    writeFileSync(
      join(standIns, "chroot"),
      `#!/bin/sh\ngrep -F " ${b.root}/" /proc/self/mountinfo | cut -d' ' -f5 >>"${seen}"\n`,
    );
    chmodSync(join(standIns, "chroot"), 0o755);
    let after: { mounts: string[]; held: unknown[] };
    try {
      const r = await runScript(
        elementFile("debootstrap", "root.d", "75-debootstrap-baseinstall"),
        [],
        {
          ...b.env,
          PATH: `${standIns}:${b.env.PATH}`,
          DIB_APT_SOURCES_CONF: "default:deb http://deb.debian.org/debian bookworm main",
        },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      after = { mounts: mountsIn(b.root), held: b.held() };
    } finally {
      // Whatever a failure left behind, for the host check.
      await runCli(["cleanup", b.build]);
    }
    const during = new Set(readFileSync(seen, "utf8").split("\n").filter(Boolean));
    expect([...during].sort()).toEqual(
      ["dev", "dev/pts", "proc", "sys"].map((p) => join(b.root, p)),
    );
    // Released by the script's own exit trap, entry by entry.
    expect(after).toEqual({ mounts: [], held: [] });
    const ledger = Ledger.open(b.build, host);
    ledger.close();
    expect(ledger.entries().map((e) => [e.resource.kind, e.released])).toEqual([
      ["mount", true],
      ["mount", true],
      ["mount", true],
      ["mount", true],
    ]);
  });
});
