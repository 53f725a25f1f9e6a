import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
} from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalArchive, startLocalArchive } from "./ubuntu-local-archive.js";

/**
 * `dib-cli build ubuntu-minimal vm` through every phase against an archive laid out like
 * Ubuntu's, served on 127.0.0.1 and signed with a key made here (see ubuntu-local-archive.ts:
 * the packages are Debian bookworm's, republished under the codename noble). It proves the
 * Ubuntu elements' mirror, pocket, component, keyring and kernel handling end to end through
 * the shared debootstrap/dpkg machinery; it proves nothing about Ubuntu's own packages.
 * Runs as root; DIB_TEST_UBUNTU_ARCHIVE=0 skips it.
 */
const wanted = process.env.DIB_TEST_UBUNTU_ARCHIVE !== "0";
const cache =
  process.env.DIB_TEST_IMAGE_CACHE ??
  process.env.DIB_IMAGE_CACHE ??
  "/var/cache/dib-test/image-create";
const reason = rootOnlyReason || (wanted ? "" : " (skipped: DIB_TEST_UBUNTU_ARCHIVE=0)");
const CODENAME = "noble";

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
}

describe.runIf(isRoot && wanted)(
  `ubuntu-minimal vm from a local Ubuntu-style archive${reason}`,
  () => {
    let before: HostSnapshot;
    let work: string;
    let archive: LocalArchive | undefined;

    let archiveSeconds = 0;
    beforeAll(async () => {
      before = hostSnapshot();
      work = mkdtempSync(join(tmpdir(), "dib-e2e-ubuntu-archive-"));
      // apt verifies signatures as the unprivileged _apt user, which must reach the keyring.
      chmodSync(work, 0o755);
      const started = Date.now();
      archive = await startLocalArchive({
        cacheDir: join(cache, "ubuntu-local-archive"),
        workDir: join(work, "archive"),
        codename: CODENAME,
        debianRelease: "bookworm",
      });
      archiveSeconds = (Date.now() - started) / 1000;
      console.info(`local archive ready: ${archiveSeconds.toFixed(0)} s`);
    }, 900_000);
    afterAll(async () => {
      await archive?.stop();
      rmSync(work, { recursive: true, force: true });
      expectHostClean(before, [work]);
    });

    it("bootstraps, installs and boots-prepares noble from the archive's pockets and components", async () => {
      if (archive === undefined) throw new Error("the local archive did not start");
      const started = Date.now();
      const tmpDir = join(work, "tmp");
      const out = join(work, "out", "noble");
      const result = await runCli(["build", "-t", "raw,tar", "-o", out, "ubuntu-minimal", "vm"], {
        env: {
          DIB_IMAGE_CACHE: cache,
          DIB_RELEASE: CODENAME,
          DIB_DISTRIBUTION_MIRROR: archive.url,
          DIB_APT_KEYRING: archive.keyring,
          // Each run bootstraps through the archive (its URL has a new port every time), and
          // the republished Debian packages stay out of the shared apt cache of real Ubuntu builds.
          DIB_DEBOOTSTRAP_CACHE: "0",
          DIB_APT_LOCAL_CACHE: "0",
          TMP_DIR: tmpDir,
        },
      });
      const seconds = (Date.now() - started) / 1000;
      console.info(`ubuntu-minimal vm from the local archive: ${seconds.toFixed(0)} s`);
      expect(result.exitCode, `${result.stdout.slice(-6000)}\n${result.stderr.slice(-3000)}`).toBe(
        0,
      );
      expect(result.stderr).not.toMatch(/^error /m);

      // Every pocket's signed index was read, and the indexes of both components of each
      // pocket that has packages (apt fetches no file for the empty backports indexes).
      for (const suite of [
        CODENAME,
        `${CODENAME}-updates`,
        `${CODENAME}-security`,
        `${CODENAME}-backports`,
      ]) {
        expect(archive.requests).toContain(`/ubuntu/dists/${suite}/InRelease`);
        if (suite.endsWith("-backports")) continue;
        for (const component of ["main", "universe"]) {
          expect(
            archive.requests.some((p) =>
              p.startsWith(`/ubuntu/dists/${suite}/${component}/binary-amd64/Packages`),
            ),
            `${suite}/${component}`,
          ).toBe(true);
        }
      }
      // busybox is Priority optional, so only universe has it.
      expect(
        archive.requests.some((p) => /^\/ubuntu\/pool\/main\/b\/busybox\/busybox_/.test(p)),
      ).toBe(true);
      expect(
        archive.requests.some((p) => p.startsWith("/ubuntu/pool/dibtest/linux-image-generic_")),
      ).toBe(true);

      const tar = `${out}.tar`;
      const read = (path: string) => sh("tar", ["-xOf", tar, `./${path}`]);
      const components = "main universe";
      expect(read("etc/apt/sources.list.d/default.list")).toBe(
        `deb ${archive.url} ${CODENAME} ${components}\n`,
      );
      for (const pocket of ["updates", "security", "backports"]) {
        expect(read(`etc/apt/sources.list.d/${pocket}.list`)).toBe(
          `deb ${archive.url} ${CODENAME}-${pocket} ${components}\n`,
        );
      }
      const keyInImage = execFileSync("tar", [
        "-xOf",
        tar,
        "./etc/apt/trusted.gpg.d/dib-archive-keyring.gpg",
      ]);
      expect(keyInImage.equals(readFileSync(archive.keyring))).toBe(true);
      expect(read("etc/hostname")).toBe("ubuntu\n");
      expect(read("etc/sysctl.d/99-cloudimg-ipv6.conf")).toMatch(
        /^net\.ipv6\.conf\.all\.use_tempaddr=0$/m,
      );

      const status = read("var/lib/dpkg/status");
      const installed = (name: string) =>
        new RegExp(`^Package: ${name}\\nStatus: install ok installed$`, "m").test(status);
      for (const name of [
        "linux-image-generic",
        "linux-image-amd64",
        "initramfs-tools",
        "systemd-sysv",
        "busybox",
        "sudo",
        "python3",
        "grub-pc",
      ]) {
        expect(installed(name), name).toBe(true);
      }
      const members = sh("tar", ["-tf", tar]);
      expect(members).toMatch(/^\.\/boot\/vmlinuz-/m);
      expect(members).toMatch(/^\.\/boot\/initrd\.img-/m);
      // The disk phases ran: a partitioned raw image with GRUB's BIOS code in its boot sector.
      expect(sh("sfdisk", ["--dump", `${out}.raw`])).toMatch(/^label: dos$/m);
      expect(
        execFileSync("dd", [`if=${out}.raw`, "bs=512", "count=1", "status=none"]).includes(
          Buffer.from("GRUB"),
        ),
      ).toBe(true);
      expect(existsSync(tmpDir) ? readdirSync(tmpDir) : []).toEqual([]);
      rmSync(`${out}.tar`);
    }, 1_800_000);

    // Ubuntu publishes each release's disk image as <release>-server-cloudimg-<arch>.img, a
    // qcow2. The image the build above made stands in for it: served on 127.0.0.1 with its
    // SHA256SUMS, it becomes the root of an `ubuntu vm` build through cache-url, the checksum
    // check and sysprep's extract-image (loop devices and mounts of a real build).
    it("builds ubuntu vm from a cloud disk image served on 127.0.0.1, through every phase", async () => {
      if (archive === undefined) throw new Error("the local archive did not start");
      const raw = join(work, "out", "noble.raw");
      expect(existsSync(raw), "the ubuntu-minimal build above made the cloud image").toBe(true);
      const started = Date.now();
      const images = join(work, "cloud-images");
      mkdirSync(images);
      const name = `${CODENAME}-server-cloudimg-amd64.img`;
      sh("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, join(images, name)]);
      rmSync(raw);
      const sum = sh("sha256sum", [join(images, name)]).split(" ")[0];
      writeFileSync(join(images, "SHA256SUMS"), `${sum} *${name}\n`);
      const cloud = `/cloud/${CODENAME}/current`;
      archive.serve(`${cloud}/${name}`, join(images, name));
      archive.serve(`${cloud}/SHA256SUMS`, join(images, "SHA256SUMS"));

      const tmpDir = join(work, "tmp");
      const out = join(work, "out", "ubuntu");
      const result = await runCli(["build", "-t", "raw,tar", "-o", out, "ubuntu", "vm"], {
        env: {
          // A cache of its own: the stand-in image must not pass for Ubuntu's in the shared one.
          DIB_IMAGE_CACHE: join(work, "image-cache"),
          DIB_RELEASE: CODENAME,
          DIB_CLOUD_IMAGES: `${new URL(archive.url).origin}${cloud}`,
          BASE_IMAGE_FILE: name,
          DIB_DISTRIBUTION_MIRROR: archive.url,
          DIB_APT_LOCAL_CACHE: "0",
          TMP_DIR: tmpDir,
        },
      });
      console.info(
        `ubuntu vm from the cloud image: ${((Date.now() - started) / 1000).toFixed(0)} s`,
      );
      expect(result.exitCode, `${result.stdout.slice(-6000)}\n${result.stderr.slice(-3000)}`).toBe(
        0,
      );
      expect(archive.requests).toContain(`${cloud}/SHA256SUMS`);
      expect(archive.requests).toContain(`${cloud}/${name}`);

      const tar = `${out}.tar`;
      const read = (path: string) => sh("tar", ["-xOf", tar, `./${path}`]);
      const status = read("var/lib/dpkg/status");
      const installed = (pkg: string) =>
        new RegExp(`^Package: ${pkg}\\nStatus: install ok installed$`, "m").test(status);
      // The cloud image's own packages, the kernel the element asks for, dkms (an element-dep),
      // and GRUB, removed before the chroot phases and installed again by the bootloader.
      for (const pkg of ["systemd-sysv", "busybox", "linux-image-generic", "dkms", "grub-pc"]) {
        expect(installed(pkg), pkg).toBe(true);
      }
      expect(read("etc/cloud/cloud.cfg.d/91-dib-cloud-init-datasources.cfg")).toMatch(/Ec2/);
      expect(read("etc/sysctl.d/99-cloudimg-ipv6.conf")).toMatch(/use_tempaddr=0/);
      expect(sh("sfdisk", ["--dump", `${out}.raw`])).toMatch(/^label: dos$/m);
      expect(existsSync(tmpDir) ? readdirSync(tmpDir) : []).toEqual([]);
    }, 1_800_000);
  },
);
