import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { elementFile, runScript, tempDir } from "./element-harness.js";

/**
 * The centos element's root.d with stand-ins for cache-url (serving files from a folder
 * instead of cloud.centos.org, which cannot be reached from here) and for sysprep's
 * extract-image (recording its arguments; it runs for real in the ubuntu element's tests).
 * The checksum check is the real one.
 */
const work = tempDir("rpm-centos-cloud");
afterAll(() => work.remove());
const hooks = join(work.dir, "hooks");
const served = join(work.dir, "served");
const log = join(work.dir, "calls.log");
mkdirSync(join(hooks, "bin"), { recursive: true });
mkdirSync(served);
writeFileSync(
  join(hooks, "bin", "cache-url"),
  `#!/bin/bash\necho "cache-url $*" >> ${log}\nif [ "$1" = -f ]; then shift; fi\ncp "${served}/$(basename "$1")" "$2"\n`,
);
writeFileSync(
  join(hooks, "bin", "extract-image"),
  `#!/bin/bash\necho "extract-image $*" >> ${log}\n`,
);
chmodSync(join(hooks, "bin", "cache-url"), 0o755);
chmodSync(join(hooks, "bin", "extract-image"), 0o755);

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let n = 0;
async function run(env: Record<string, string>) {
  n += 1;
  writeFileSync(log, "");
  const cache = join(work.dir, `cache-${n}`);
  const result = await runScript(
    "/bin/bash",
    [
      "-c",
      '. "$1"; exec "$2"',
      "run",
      elementFile("centos", "environment.d", "10-centos.bash"),
      elementFile("centos", "root.d", "10-centos-cloud-image"),
    ],
    {
      TARGET_ROOT: join(work.dir, `tree-${n}`),
      TMP_HOOKS_PATH: hooks,
      DIB_IMAGE_CACHE: cache,
      DIB_LOCKFILES: join(work.dir, "locks"),
      ...env,
    },
  );
  const calls = readFileSync(log, "utf8").split("\n").filter(Boolean);
  return { result, cache, calls };
}

describe("centos: the GenericCloud image, checked and extracted", () => {
  it.each([
    [
      "9-stream",
      "amd64",
      "https://cloud.centos.org/centos/9-stream/x86_64/images",
      "CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2",
    ],
    [
      "10-stream",
      "arm64",
      "https://cloud.centos.org/centos/10-stream/aarch64/images",
      "CentOS-Stream-GenericCloud-10-latest.aarch64.qcow2",
    ],
    [
      "8-stream",
      "amd64",
      "https://cloud.centos.org/centos/8-stream/x86_64/images",
      "CentOS-Stream-GenericCloud-8-latest.x86_64.qcow2",
    ],
  ])("%s on %s: fetches %s/%s and its CHECKSUM", async (release, arch, dir, file) => {
    writeFileSync(join(served, file), `image of ${release}`);
    // CentOS's CHECKSUM format, with other files listed around it.
    writeFileSync(
      join(served, "CHECKSUM"),
      `# ${file}: 1 bytes\nSHA256 (other.qcow2) = ${sha256("x")}\nSHA256 (${file}) = ${sha256(`image of ${release}`)}\n`,
    );
    const r = await run({ DIB_RELEASE: release, ARCH: arch });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    const cached = join(r.cache, file);
    expect(r.calls).toEqual([
      `cache-url ${dir}/CHECKSUM ${r.cache}/CHECKSUM.centos.${release}.${arch === "arm64" ? "aarch64" : "x86_64"}`,
      `cache-url ${dir}/${file} ${cached}`,
      `extract-image ${file} ${file}.tgz ${dir}/${file} ${cached}`,
    ]);
  });

  it("asks again past the caches on a checksum mismatch, then refuses and removes the image", async () => {
    const file = "CentOS-Stream-GenericCloud-9-latest.x86_64.qcow2";
    writeFileSync(join(served, file), "tampered");
    writeFileSync(join(served, "CHECKSUM"), `SHA256 (${file}) = ${sha256("genuine")}\n`);
    const r = await run({ DIB_RELEASE: "9-stream" });
    expect(r.result.exitCode).not.toBe(0);
    expect(r.result.stderr).toContain(`refusing ${file}: its checksum does not match`);
    expect(r.calls.map((c) => c.split(" ").slice(0, 2).join(" "))).toEqual([
      "cache-url https://cloud.centos.org/centos/9-stream/x86_64/images/CHECKSUM",
      `cache-url https://cloud.centos.org/centos/9-stream/x86_64/images/${file}`,
      "cache-url -f",
      "cache-url -f",
    ]);
    expect(() => readFileSync(join(r.cache, file))).toThrow();
  });

  it("takes DIB_LOCAL_IMAGE without downloading, and DIB_CLOUD_IMAGES / BASE_IMAGE_FILE when set", async () => {
    const local = join(work.dir, "my-centos.qcow2");
    writeFileSync(local, "mine");
    const r = await run({ DIB_RELEASE: "9-stream", DIB_LOCAL_IMAGE: local });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    expect(r.calls).toEqual([
      `extract-image my-centos.qcow2 my-centos.qcow2.tgz https://cloud.centos.org/centos/9-stream/x86_64/images/my-centos.qcow2 ${r.cache}/my-centos.qcow2`,
    ]);

    writeFileSync(join(served, "c9.qcow2"), "c9");
    writeFileSync(join(served, "CHECKSUM"), `${sha256("c9")}  c9.qcow2\n`);
    const mirror = await run({
      DIB_RELEASE: "9-stream",
      DIB_CLOUD_IMAGES: "http://127.0.0.1:9/centos/",
      BASE_IMAGE_FILE: "c9.qcow2",
    });
    expect(mirror.result.exitCode, mirror.result.stderr).toBe(0);
    expect(mirror.calls[1]).toBe(
      `cache-url http://127.0.0.1:9/centos/c9.qcow2 ${mirror.cache}/c9.qcow2`,
    );
  });

  it("refuses CentOS 7 with a pointer to centos-minimal", async () => {
    const r = await run({ DIB_RELEASE: "7" });
    expect(r.result.exitCode).not.toBe(0);
    expect(r.result.stderr).toContain("use centos-minimal with DIB_RELEASE=7");
    expect(r.calls).toEqual([]);
  });
});
