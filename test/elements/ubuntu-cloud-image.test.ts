import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason, runScript } from "./element-harness.js";
import { unpackMinbase, useCheckedDir } from "./minbase-tree.js";

/**
 * The ubuntu element's cloud-image path with images the test makes, since Ubuntu's cannot be
 * reached from here: a root squashfs (made from the minbase tree, so the element's
 * pre-install mirror hook can then run inside it), a xenial-style root tarball and a qcow2
 * disk image with a root and a separate /boot partition, each listed in a SHA256SUMS, served
 * over HTTP on 127.0.0.1 and over file://. The real root.d script, cache-url and sysprep's
 * extract-image run; loop devices and mounts are checked to be gone afterwards.
 */
const reason = rootOnlyReason || minbaseSkipReason;

interface Served {
  path: string;
  status: number;
  ifModifiedSince: boolean;
}

describe.runIf(isRoot && haveMinbase)(`ubuntu cloud images through cache-url${reason}`, () => {
  const work = useCheckedDir("ubuntu-cloud");
  let server: Server;
  let base: string;
  const served: Served[] = [];
  const images = () => join(work.dir, "images");
  const hooks = () => join(work.dir, "hooks");
  const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

  beforeAll(async () => {
    // The hooks tree the builder would make: the element's bin tools.
    mkdirSync(join(hooks(), "bin"), { recursive: true });
    symlinkSync(elementFile("cache-url", "bin", "cache-url"), join(hooks(), "bin", "cache-url"));
    symlinkSync(
      elementFile("sysprep", "bin", "extract-image"),
      join(hooks(), "bin", "extract-image"),
    );

    const good = join(images(), "current");
    mkdirSync(good, { recursive: true });
    // noble: a root squashfs made from a real root tree, with Ubuntu's deb822 sources.
    const tree = join(work.dir, "noble-tree");
    mkdirSync(tree);
    await unpackMinbase(tree);
    mkdirSync(join(tree, "etc/apt/sources.list.d"), { recursive: true });
    writeFileSync(
      join(tree, "etc/apt/sources.list.d/ubuntu.sources"),
      [
        "Types: deb",
        "URIs: http://archive.ubuntu.com/ubuntu/",
        "Suites: noble noble-updates noble-backports",
        "Components: main universe restricted multiverse",
        "",
        "Types: deb",
        "URIs: http://security.ubuntu.com/ubuntu/",
        "Suites: noble-security",
        "Components: main universe restricted multiverse",
        "",
      ].join("\n"),
    );
    writeFileSync(join(tree, "etc/cloudimg-marker"), "noble\n");
    await execa("mksquashfs", [
      tree,
      join(good, "noble-server-cloudimg-amd64.squashfs"),
      "-quiet",
      "-noappend",
      "-comp",
      "gzip",
    ]);

    // xenial: a root tarball.
    const small = join(work.dir, "small-tree");
    mkdirSync(join(small, "etc"), { recursive: true });
    writeFileSync(join(small, "etc/cloudimg-marker"), "xenial\n");
    await execa("tar", [
      "-C",
      small,
      "--numeric-owner",
      "-czf",
      join(good, "xenial-server-cloudimg-amd64-root.tar.gz"),
      ".",
    ]);

    // A disk image: GPT, root (partition 1, ext4 "cloudimg-rootfs") and /boot (16, "BOOT").
    const diskRoot = join(work.dir, "disk-root");
    const diskBoot = join(work.dir, "disk-boot");
    mkdirSync(join(diskRoot, "etc"), { recursive: true });
    mkdirSync(join(diskRoot, "boot"), { recursive: true });
    mkdirSync(diskBoot, { recursive: true });
    writeFileSync(join(diskRoot, "etc/cloudimg-marker"), "disk\n");
    writeFileSync(
      join(diskRoot, "etc/fstab"),
      "LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\nLABEL=BOOT /boot ext4 defaults 0 2\n",
    );
    writeFileSync(join(diskBoot, "vmlinuz-6.8.0-test"), "a kernel\n");
    const raw = join(work.dir, "disk.raw");
    await execa("truncate", ["-s", "64M", raw]);
    await execa("sfdisk", ["--quiet", raw], {
      input: "label: gpt\nstart=2048, size=61440, type=L\nstart=63488, size=40960, type=L\n",
    });
    await execa("mkfs.ext4", [
      "-q",
      "-F",
      "-L",
      "cloudimg-rootfs",
      "-d",
      diskRoot,
      "-E",
      `offset=${2048 * 512}`,
      raw,
      "30M",
    ]);
    await execa("mkfs.ext4", [
      "-q",
      "-F",
      "-L",
      "BOOT",
      "-d",
      diskBoot,
      "-E",
      `offset=${63488 * 512}`,
      raw,
      "20M",
    ]);
    await execa("qemu-img", [
      "convert",
      "-f",
      "raw",
      "-O",
      "qcow2",
      raw,
      join(good, "noble-server-cloudimg-amd64.img"),
    ]);

    const sums = readdirSync(good)
      .map((f) => `${sha(join(good, f))} *${f}`)
      .join("\n");
    writeFileSync(join(good, "SHA256SUMS"), `${sums}\n`);
    // A copy whose SHA256SUMS does not match the image.
    const bad = join(images(), "bad");
    mkdirSync(bad);
    copyFileSync(
      join(good, "noble-server-cloudimg-amd64.squashfs"),
      join(bad, "noble-server-cloudimg-amd64.squashfs"),
    );
    writeFileSync(
      join(bad, "SHA256SUMS"),
      `${"0".repeat(64)} *noble-server-cloudimg-amd64.squashfs\n`,
    );

    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const file = join(images(), path);
      const since = req.headers["if-modified-since"];
      const record = (status: number) =>
        served.push({ path, status, ifModifiedSince: since !== undefined });
      if (path.includes("..") || !existsSync(file) || !statSync(file).isFile()) {
        record(404);
        res.writeHead(404).end();
        return;
      }
      const mtime = statSync(file).mtime;
      if (since !== undefined && Math.floor(mtime.getTime() / 1000) <= Date.parse(since) / 1000) {
        record(304);
        res.writeHead(304).end();
        return;
      }
      record(200);
      const data = readFileSync(file);
      res.writeHead(200, { "Content-Length": data.length, "Last-Modified": mtime.toUTCString() });
      res.end(data);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 300_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  let n = 0;
  async function cloudImage(env: Record<string, string>, cache = join(work.dir, "cache")) {
    const target = join(work.dir, `root-${n++}`);
    mkdirSync(target);
    mkdirSync(join(work.dir, "tmp"), { recursive: true });
    const r = await runScript(elementFile("ubuntu", "root.d", "10-ubuntu-cloud-image"), [], {
      TARGET_ROOT: target,
      ARCH: "amd64",
      DIB_RELEASE: "noble",
      DIB_IMAGE_CACHE: cache,
      DIB_LOCKFILES: join(work.dir, "locks"),
      TMP_HOOKS_PATH: hooks(),
      TMP_DIR: join(work.dir, "tmp"),
      ...env,
    });
    return { ...r, target, cache };
  }
  const marker = (target: string) => readFileSync(join(target, "etc/cloudimg-marker"), "utf8");

  it("downloads the noble squashfs over HTTP, checks it, unpacks it, and asks only for changes the second time", async () => {
    const first = await cloudImage({ DIB_CLOUD_IMAGES: `${base}/current` });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(marker(first.target)).toBe("noble\n");
    expect(served).toContainEqual({
      path: "/current/SHA256SUMS",
      status: 200,
      ifModifiedSince: false,
    });
    expect(served).toContainEqual({
      path: "/current/noble-server-cloudimg-amd64.squashfs",
      status: 200,
      ifModifiedSince: false,
    });
    const cached = join(first.cache, "noble-server-cloudimg-amd64.squashfs");
    const mtime = statSync(cached).mtimeMs;

    served.length = 0;
    const second = await cloudImage({ DIB_CLOUD_IMAGES: `${base}/current` });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(served).toContainEqual({
      path: "/current/noble-server-cloudimg-amd64.squashfs",
      status: 304,
      ifModifiedSince: true,
    });
    expect(second.stderr).toContain("has not changed");
    expect(statSync(cached).mtimeMs).toBe(mtime);
    expect(marker(second.target)).toBe("noble\n");

    // The pre-install hook then points the image's deb822 sources at the mirror, in the image.
    const target = second.target;
    copyFileSync(
      elementFile("ubuntu", "pre-install.d", "01-ubuntu-set-mirror"),
      join(target, "tmp/hook"),
    );
    const chroot = await execa(
      "chroot",
      [
        target,
        "/usr/bin/env",
        "-i",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "DIB_DISTRIBUTION_MIRROR=http://mirror.example/ubuntu",
        "DIB_DISTRIBUTION_MIRROR_UBUNTU_IGNORE=security\\.ubuntu\\.com",
        "/bin/bash",
        "/tmp/hook",
      ],
      { reject: false },
    );
    expect(chroot.exitCode, chroot.stderr).toBe(0);
    const sources = readFileSync(join(target, "etc/apt/sources.list.d/ubuntu.sources"), "utf8");
    expect(sources).toContain("URIs: http://mirror.example/ubuntu\n");
    expect(sources).not.toContain("archive.ubuntu.com");
    // Lines matching DIB_DISTRIBUTION_MIRROR_UBUNTU_IGNORE stay as they are.
    expect(sources).toContain("URIs: http://security.ubuntu.com/ubuntu/\n");
  }, 300_000);

  it("refuses an image whose checksum does not match, and unpacks nothing", async () => {
    const r = await cloudImage({ DIB_CLOUD_IMAGES: `${base}/bad` }, join(work.dir, "cache-bad"));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("refusing noble-server-cloudimg-amd64.squashfs");
    expect(readdirSync(r.target)).toEqual([]);
    expect(existsSync(join(r.cache, "noble-server-cloudimg-amd64.squashfs"))).toBe(false);
  });

  it("unpacks xenial's root tarball from a file:// location", async () => {
    const r = await cloudImage({
      DIB_RELEASE: "xenial",
      DIB_CLOUD_IMAGES: `file://${images()}/current`,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(marker(r.target)).toBe("xenial\n");
  });

  it("turns a qcow2 disk image into the root, /boot partition included, through extract-image", async () => {
    const r = await cloudImage({
      DIB_CLOUD_IMAGES: `${base}/current`,
      BASE_IMAGE_FILE: "noble-server-cloudimg-amd64.img",
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(marker(r.target)).toBe("disk\n");
    expect(readFileSync(join(r.target, "boot/vmlinuz-6.8.0-test"), "utf8")).toBe("a kernel\n");
    expect(existsSync(join(r.cache, "noble-server-cloudimg-amd64.img.tgz"))).toBe(true);
    expect(r.stderr).toContain("Repacking");
    // extract-image repacks the file whose checksum was checked: it is fetched once.
    expect(
      served.filter((s) => s.path === "/current/noble-server-cloudimg-amd64.img"),
    ).toHaveLength(1);
  }, 300_000);

  it("uses DIB_LOCAL_IMAGE (disk image or tarball) without asking any server, and DIB_OFFLINE the cache", async () => {
    served.length = 0;
    const disk = await cloudImage(
      { DIB_LOCAL_IMAGE: join(images(), "current", "noble-server-cloudimg-amd64.img") },
      join(work.dir, "cache-local"),
    );
    expect(disk.exitCode, disk.stderr).toBe(0);
    expect(marker(disk.target)).toBe("disk\n");
    const tarball = await cloudImage({
      DIB_LOCAL_IMAGE: join(images(), "current", "xenial-server-cloudimg-amd64-root.tar.gz"),
    });
    expect(tarball.exitCode, tarball.stderr).toBe(0);
    expect(marker(tarball.target)).toBe("xenial\n");
    const offline = await cloudImage({ DIB_CLOUD_IMAGES: `${base}/current`, DIB_OFFLINE: "1" });
    expect(offline.exitCode, offline.stderr).toBe(0);
    expect(marker(offline.target)).toBe("noble\n");
    expect(served).toEqual([]);
  }, 300_000);
});
