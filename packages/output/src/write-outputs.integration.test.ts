import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DibError, Host, isDibError, Ledger } from "@dib/host";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRawImage, makeSyntheticTree } from "./__fixtures__/synthetic-image.js";
import type { OutputResult } from "./output-result.js";
import { planOutputs } from "./plan.js";
import { probeOutputHost } from "./probe.js";
import { writeOutputs } from "./write-outputs.js";

const host = new Host();
const uid = process.getuid?.() ?? 0;

async function run(argv: string[], cwd?: string): Promise<string> {
  return (await host.run(argv, { cwd })).stdout;
}

function fresh(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dib-output-${prefix}-`));
}

function byType(results: OutputResult[], type: string): OutputResult {
  const found = results.find((r) => r.type === type);
  if (!found) throw new Error(`no ${type} output`);
  return found;
}

/** Compares a disk converted back to raw with the original; vpc may round the size up to whole CHS cylinders. */
async function expectSameDisk(original: string, converted: string, format: string): Promise<void> {
  const dir = fresh("back");
  try {
    const back = join(dir, "back.raw");
    await run(["qemu-img", "convert", "-f", format, "-O", "raw", converted, back]);
    const size = readFileSync(original).length;
    await run(["cmp", "-n", String(size), original, back]);
    const tail = readFileSync(back).subarray(size);
    expect(tail.every((b) => b === 0)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("writeOutputs on a synthetic image", () => {
  let dir: string;
  let tree: string;
  let original: string;
  let results: OutputResult[];
  const out = (name: string) => join(dir, "out", name);

  beforeAll(async () => {
    dir = fresh("all");
    tree = join(dir, "tree");
    original = join(dir, "disk.raw");
    await makeSyntheticTree(host, tree);
    await makeRawImage(host, tree, original);
    const input = join(dir, "build.raw");
    await run(["cp", "--sparse=always", original, input]);
    const plan = planOutputs(["qcow2", "raw", "tar", "tgz", "squashfs", "vhd", "docker", "oci"], {
      imageName: "out/image",
      hasDisk: true,
      dockerTarget: "dib-test:1.0",
      checksum: "1",
      arch: "amd64",
    });
    const started = performance.now();
    results = await writeOutputs(plan, { host, rawImage: input, tree, cwd: dir });
    console.info(
      `all eight types from a 64 MiB image: ${Math.round(performance.now() - started)} ms`,
    );
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes every requested type, in the order of -t, with md5sum -c and sha256sum -c checksum files", async () => {
    expect(results.map((r) => [r.type, r.file])).toEqual([
      ["qcow2", "out/image.qcow2"],
      ["raw", "out/image.raw"],
      ["tar", "out/image.tar"],
      ["tgz", "out/image.tgz"],
      ["squashfs", "out/image.squash"],
      ["vhd", "out/image.vhd"],
      ["docker", "out/image.docker"],
      ["oci", "out/image.oci"],
    ]);
    const files = readdirSync(join(dir, "out")).sort();
    for (const r of results) {
      const name = (r.file as string).slice("out/".length);
      expect(files).toContain(`${name}.md5`);
      expect(files).toContain(`${name}.sha256`);
      expect(readFileSync(out(`${name}.sha256`), "utf8")).toBe(`${r.checksums.sha256}  ${name}\n`);
    }
    expect(files.filter((f) => f.endsWith("-new") || f.endsWith(".layer"))).toEqual([]);
    const md5 = files.filter((f) => f.endsWith(".md5"));
    const sha = files.filter((f) => f.endsWith(".sha256"));
    expect(await run(["md5sum", "-c", ...md5], join(dir, "out"))).toMatch(
      /^(image\.\S+: OK\n){8}$/,
    );
    expect(await run(["sha256sum", "-c", ...sha], join(dir, "out"))).toMatch(
      /^(image\.\S+: OK\n){8}$/,
    );
  });

  it("makes a compressed qcow2 that qemu-img checks clean and that holds the raw disk byte for byte", async () => {
    await run(["qemu-img", "check", out("image.qcow2")]);
    const info = JSON.parse(await run(["qemu-img", "info", "--output=json", out("image.qcow2")]));
    expect(info).toMatchObject({ format: "qcow2", "virtual-size": 64 * 1024 * 1024 });
    expect(byType(results, "qcow2").bytes).toBeLessThan(4 * 1024 * 1024);
    await expectSameDisk(original, out("image.qcow2"), "qcow2");
  });

  it("makes a vhd (qemu-img's vpc) that holds the raw disk", async () => {
    const info = JSON.parse(await run(["qemu-img", "info", "--output=json", out("image.vhd")]));
    expect(info.format).toBe("vpc");
    expect(info["virtual-size"]).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    await expectSameDisk(original, out("image.vhd"), "vpc");
  });

  it("moves the raw image into place unchanged", async () => {
    await run(["cmp", original, out("image.raw")]);
    expect(readdirSync(dir)).not.toContain("build.raw");
  });

  it("tars the tree with numeric owners, hard links, symlinks and empty proc and sys", async () => {
    const listing = await run(["tar", "-tvvf", out("image.tar"), "--numeric-owner"]);
    const line = (name: string) =>
      listing.split("\n").find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `));
    expect(line("./etc/os-release")).toContain(` ${uid}/${uid} `);
    if (isRoot) expect(line("./home/user/notes")).toContain(" 1000/1000 ");
    expect(line("./usr/bin/tool-hardlink")).toMatch(/^h.* link to \.\/usr\/bin\/tool$/);
    expect(line("./etc/localtime")).toMatch(/^l.* -> \.\.\/usr\/share\/zoneinfo\/UTC$/);
    expect(listing).toContain(" ./proc/\n");
    expect(listing).toContain(" ./sys/\n");
    expect(listing).not.toContain("./proc/1");
    expect(listing).not.toContain("./sys/kernel");
    const names = (await run(["tar", "-tf", out("image.tar")])).trim().split("\n");
    expect(names).toEqual([...names].sort());
  });

  it.runIf(isRoot)(`keeps device nodes in the tar${rootOnlyReason}`, async () => {
    const listing = await run(["tar", "-tvvf", out("image.tar"), "--numeric-owner"]);
    expect(listing).toMatch(/^crw-rw-rw- 0\/0 +1,3 .* \.\/dev\/null$/m);
  });

  it("keeps xattrs and ACLs in the tar", async () => {
    const x = fresh("untar");
    try {
      await run([
        "tar",
        "--xattrs",
        "--xattrs-include=*",
        "--acls",
        "-xf",
        out("image.tar"),
        "-C",
        x,
      ]);
      expect(
        await run(["getfattr", "--only-values", "-n", "user.dib", join(x, "etc/with-xattr")]),
      ).toBe("1");
      expect(await run(["getfacl", "-c", join(x, "etc/with-acl")])).toContain("user:1234:r--");
    } finally {
      rmSync(x, { recursive: true, force: true });
    }
  });

  it("gzips the same tar stream for tgz", async () => {
    const tar = await run(["tar", "-tvf", out("image.tar"), "--numeric-owner"]);
    await run(["gzip", "-t", out("image.tgz")]);
    expect(await run(["tar", "-tzvf", out("image.tgz"), "--numeric-owner"])).toBe(tar);
  });

  it("squashes the tree so unsquashfs lists it, without the contents of proc and sys", async () => {
    const listing = await run(["unsquashfs", "-l", out("image.squash")]);
    expect(listing).toContain("squashfs-root/etc/os-release\n");
    expect(listing).toContain("squashfs-root/usr/bin/tool-hardlink\n");
    expect(listing).toContain("squashfs-root/proc\n");
    expect(listing).not.toContain("squashfs-root/proc/1");
    expect(listing).not.toContain("squashfs-root/sys/kernel");
  });

  it("writes a docker-archive that skopeo reads under the docker target, digests verified", async () => {
    const inspect = JSON.parse(
      await run(["skopeo", "inspect", `docker-archive:${out("image.docker")}:dib-test:1.0`]),
    );
    expect(inspect).toMatchObject({
      Name: "docker.io/library/dib-test",
      Architecture: "amd64",
      Os: "linux",
    });
    expect(inspect.Layers).toHaveLength(1);
    await expect(
      run(["skopeo", "inspect", `docker-archive:${out("image.docker")}:other:1.0`]),
    ).rejects.toThrow();
    const copy = fresh("skopeo");
    try {
      // Copying re-reads every blob and checks it against the digests in the manifest.
      await run(["skopeo", "copy", `docker-archive:${out("image.docker")}`, `oci:${copy}:check`]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("writes an OCI archive that skopeo reads by its tag", async () => {
    const inspect = JSON.parse(
      await run(["skopeo", "inspect", `oci-archive:${out("image.oci")}:1.0`]),
    );
    expect(inspect).toMatchObject({ Architecture: "amd64", Os: "linux" });
    const raw = JSON.parse(
      await run(["skopeo", "inspect", "--raw", `oci-archive:${out("image.oci")}:1.0`]),
    );
    expect(raw.layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    await expect(
      run(["skopeo", "inspect", `oci-archive:${out("image.oci")}:latest`]),
    ).rejects.toThrow();
    const copy = fresh("skopeo");
    try {
      await run(["skopeo", "copy", `oci-archive:${out("image.oci")}:1.0`, `dir:${copy}`]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe("disk formats converted back", () => {
  it("makes vmdk and vdi that qemu-img checks and converts back to the same raw disk", async () => {
    const dir = fresh("vmdk");
    try {
      const tree = join(dir, "tree");
      await makeSyntheticTree(host, tree);
      const raw = join(dir, "disk.raw");
      await makeRawImage(host, tree, raw);
      // -t raw moves the raw image into place; the original stays here to compare with.
      const original = join(dir, "original.raw");
      await run(["cp", "--sparse=always", raw, original]);
      const plan = planOutputs(["vmdk", "vdi", "raw"], { imageName: "img", hasDisk: true });
      const results = await writeOutputs(plan, { host, rawImage: raw, cwd: dir });
      expect(results.map((r) => r.file)).toEqual(["img.vmdk", "img.vdi", "img.raw"]);
      for (const [file, format] of [
        ["img.vmdk", "vmdk"],
        ["img.vdi", "vdi"],
      ] as const) {
        await run(["qemu-img", "check", join(dir, file)]);
        const info = JSON.parse(await run(["qemu-img", "info", "--output=json", join(dir, file)]));
        expect(info).toMatchObject({ format, "virtual-size": 64 * 1024 * 1024 });
        await expectSameDisk(original, join(dir, file), format);
      }
      await run(["cmp", original, join(dir, "img.raw")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("an output that already exists", () => {
  let dir: string;
  let tree: string;
  beforeAll(async () => {
    dir = fresh("old");
    tree = join(dir, "tree");
    await makeSyntheticTree(host, tree);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is renamed to NAME-YYYY.MM.DD-HH.MM.SS.<ext> with its checksums, then replaced", async () => {
    const plan = planOutputs(["tar"], { imageName: "image", hasDisk: false, checksum: "md5" });
    await writeOutputs(plan, { host, tree, cwd: dir });
    await run(["touch", "-d", "2024-05-01 09:08:07", join(dir, "image.tar")]);
    const [second] = await writeOutputs(plan, { host, tree, cwd: dir });
    expect(second?.renamedOld.map((r) => r.to.slice(dir.length + 1))).toEqual([
      "image-2024.05.01-09.08.07.tar",
      "image-2024.05.01-09.08.07.tar.md5",
    ]);
    expect(readdirSync(dir).sort()).toEqual([
      "image-2024.05.01-09.08.07.tar",
      "image-2024.05.01-09.08.07.tar.md5",
      "image.tar",
      "image.tar.md5",
      "tree",
    ]);
  });

  it("is replaced in place with OVERWRITE_OLD_IMAGE, its stale checksum removed", async () => {
    writeFileSync(join(dir, "over.tar"), "old");
    writeFileSync(join(dir, "over.tar.sha256"), "stale");
    const plan = planOutputs(["tar"], { imageName: "over", hasDisk: false, overwriteOld: true });
    const [result] = await writeOutputs(plan, { host, tree, cwd: dir });
    expect(result?.renamedOld).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.startsWith("over"))).toEqual(["over.tar"]);
    expect(await run(["tar", "-tf", join(dir, "over.tar")])).toContain("./etc/os-release");
  });
});

describe("a docker engine", () => {
  it("receives the tree's tar stream through docker import when `docker info` answers", async () => {
    const dir = fresh("engine");
    const savedPath = process.env.PATH;
    try {
      const tree = join(dir, "tree");
      await makeSyntheticTree(host, tree);
      const bin = join(dir, "bin");
      mkdirSync(bin);
      // A stand-in for the docker CLI: answers `info`, and keeps what `import` is fed.
      writeFileSync(
        join(bin, "docker"),
        `#!/bin/sh\ncase "$1" in\n  info) echo 99.0 ;;\n  import) cat > "${dir}/imported.tar" && echo "sha256:feed $3" ;;\n  *) exit 1 ;;\nesac\n`,
        { mode: 0o755 },
      );
      process.env.PATH = `${bin}:${savedPath}`;
      const facts = await probeOutputHost(host);
      expect(facts.dockerEngine).toBe(true);
      const plan = planOutputs(["docker"], {
        imageName: "img",
        hasDisk: false,
        dockerTarget: "dib:ci",
        ...facts,
      });
      const [result] = await writeOutputs(plan, { host, tree, cwd: dir });
      expect(result).toMatchObject({
        type: "docker",
        via: "docker-import",
        image: "dib:ci",
        imageId: "sha256:feed dib:ci",
      });
      expect(result?.file).toBeUndefined();
      expect(await run(["tar", "-tf", join(dir, "imported.tar")])).toContain("./etc/os-release\n");
      expect(readdirSync(dir)).not.toContain("img.docker");
    } finally {
      process.env.PATH = savedPath;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("counts a docker CLI without a daemon as no engine", async () => {
    const dir = fresh("noengine");
    const savedPath = process.env.PATH;
    try {
      writeFileSync(
        join(dir, "docker"),
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n",
        {
          mode: 0o755,
        },
      );
      process.env.PATH = `${dir}:${savedPath}`;
      expect((await probeOutputHost(host)).dockerEngine).toBe(false);
    } finally {
      process.env.PATH = savedPath;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a failed conversion", () => {
  it("reports qemu-img's error and leaves no -new file behind", async () => {
    const dir = fresh("fail");
    try {
      const tree = join(dir, "tree");
      await makeSyntheticTree(host, tree);
      const raw = join(dir, "disk.raw");
      await makeRawImage(host, tree, raw);
      const plan = planOutputs(["tar", "qcow2"], {
        imageName: "out/img",
        hasDisk: true,
        qemuImgOptions: "no_such_option=1",
      });
      const error = await writeOutputs(plan, { host, tree, rawImage: raw, cwd: dir }).catch(
        (e) => e,
      );
      expect(isDibError(error, "DIB_COMMAND_FAILED")).toBe(true);
      expect((error as DibError).hint).toContain("no_such_option");
      expect(readdirSync(join(dir, "out")).sort()).toEqual(["img.tar"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails before any work when an input is missing", async () => {
    const plan = planOutputs(["qcow2"], { imageName: "img", hasDisk: true });
    const error = await writeOutputs(plan, { host, rawImage: "/nonexistent/disk.raw" }).catch(
      (e) => e,
    );
    expect(isDibError(error, "DIB_OUTPUT_NEEDS_DISK")).toBe(true);
  });
});

describe.runIf(isRoot)(`host mounts below the tree${rootOnlyReason}`, () => {
  it("keeps the mount point but none of the host's /dev, and keeps the image's own /boot", async () => {
    const before = hostSnapshot();
    const dir = fresh("mounts");
    const ledger = Ledger.open(join(dir, "build"), host);
    try {
      const tree = join(dir, "tree");
      await makeSyntheticTree(host, tree);
      rmSync(join(tree, "dev/null"));
      mkdirSync(join(dir, "bootfs"));
      writeFileSync(join(dir, "bootfs/grub.cfg"), "menuentry\n");
      await ledger.mount({ source: "/dev", target: join(tree, "dev"), bind: true });
      await ledger.mount({ source: join(dir, "bootfs"), target: join(tree, "boot"), bind: true });
      const plan = planOutputs(["tar", "squashfs"], { imageName: "img", hasDisk: false });
      await writeOutputs(plan, { host, tree, cwd: dir, keepMounts: ["/boot"] });
      const tar = await run(["tar", "-tf", join(dir, "img.tar")]);
      expect(tar).toContain("./dev/\n");
      expect(tar).not.toMatch(/\.\/dev\/./);
      expect(tar).toContain("./boot/grub.cfg\n");
      const squash = await run(["unsquashfs", "-l", join(dir, "img.squash")]);
      expect(squash).toContain("squashfs-root/dev\n");
      expect(squash).not.toContain("squashfs-root/dev/");
      expect(squash).toContain("squashfs-root/boot/grub.cfg\n");
    } finally {
      await ledger.undo();
      expectHostClean(before);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
