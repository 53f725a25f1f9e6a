import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
} from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, lazyTempDir, runScript } from "./element-harness.js";

const hook = elementFile("replace-partition", "root.d", "10-local-image-extract");
const ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/**
 * replace-partition's root.d reads a whole-disk image the way a DIB-built one is laid out
 * (GPT: ESP, /boot, root; the root's fstab names the others by UUID and LABEL) and copies its
 * files into the new build's tree. The disk images are made here from real filesystems
 * (mkfs.ext4 -d, mkfs.vfat + mtools) at 512- and 4096-byte sectors; the hook mounts them
 * read-only with loop mounts and must leave no loop device or mount behind. The full rebuild
 * (new layout, GRUB reinstalled) is the e2e test stock-elements-b.
 */
describe.runIf(isRoot)(
  `replace-partition reads a disk image's filesystems${rootOnlyReason}`,
  () => {
    const work = lazyTempDir("replace-part");
    let before: HostSnapshot;

    beforeAll(async () => {
      before = hostSnapshot();
      work.create();
      const src = join(work.dir, "src");
      mkdirSync(join(src, "root/etc"), { recursive: true });
      mkdirSync(join(src, "root/usr/bin"), { recursive: true });
      mkdirSync(join(src, "root/boot/efi"), { recursive: true });
      mkdirSync(join(src, "boot"), { recursive: true });
      writeFileSync(
        join(src, "root/etc/fstab"),
        "LABEL=cloudimg-rootfs / ext4 defaults 0 1\n" +
          "LABEL=mkfs_boot /boot ext4 defaults 0 2\n" +
          "UUID=1234-ABCD /boot/efi vfat defaults 0 2\n" +
          "tmpfs /tmp tmpfs defaults 0 0\n",
      );
      writeFileSync(join(src, "root/usr/bin/hello"), "#!/bin/sh\necho hello\n");
      await execa("chown", ["1234:5678", join(src, "root/usr/bin/hello")]);
      await execa("chmod", ["4755", join(src, "root/usr/bin/hello")]);
      await execa("setfattr", ["-n", "user.dib", "-v", "kept", join(src, "root/usr/bin/hello")]);
      writeFileSync(join(src, "boot/vmlinuz-test"), "not a kernel\n");
      writeFileSync(join(src, "grubx64.efi"), "not grub\n");

      const img = (name: string) => join(work.dir, name);
      await execa("mkfs.ext4", [
        "-q",
        "-L",
        "cloudimg-rootfs",
        "-d",
        join(src, "root"),
        img("root.fs"),
        "64M",
      ]);
      await execa("mkfs.ext4", [
        "-q",
        "-L",
        "mkfs_boot",
        "-d",
        join(src, "boot"),
        img("boot.fs"),
        "16M",
      ]);
      await execa("mkfs.vfat", ["-n", "ESP", "-i", "1234ABCD", "-C", img("esp.fs"), "16384"]);
      const mtools = { env: { MTOOLS_SKIP_CHECK: "1" } };
      await execa("mmd", ["-i", img("esp.fs"), "::/EFI", "::/EFI/debian"], mtools);
      await execa(
        "mcopy",
        ["-i", img("esp.fs"), join(src, "grubx64.efi"), "::/EFI/debian/"],
        mtools,
      );
    }, 120_000);

    afterAll(() => {
      work.remove();
      expectHostClean(before, [work.dir]);
    });

    /** A GPT disk of `sectorSize` with ESP, /boot and root partitions holding the filesystems above. */
    async function makeDisk(name: string, sectorSize: 512 | 4096): Promise<string> {
      const disk = join(work.dir, name);
      await execa("truncate", ["-s", "128M", disk]);
      const perMiB = (1024 * 1024) / sectorSize;
      const parts = [
        { fs: "esp.fs", start: 1 * perMiB, size: 16 * perMiB, type: ESP_TYPE },
        { fs: "boot.fs", start: 17 * perMiB, size: 16 * perMiB, type: "L" },
        { fs: "root.fs", start: 33 * perMiB, size: 64 * perMiB, type: "L" },
      ];
      const script = `label: gpt\n${parts.map((p) => `start=${p.start}, size=${p.size}, type=${p.type}`).join("\n")}\n`;
      // sfdisk writes the table in the device's sector size, so a 4K table goes through a 4K loop device.
      const loop = (
        await execa("losetup", ["--find", "--show", "--sector-size", String(sectorSize), disk])
      ).stdout.trim();
      try {
        await execa("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", loop], {
          input: script,
        });
      } finally {
        await execa("losetup", ["-d", loop]);
      }
      for (const p of parts) {
        await execa("dd", [
          `if=${join(work.dir, p.fs)}`,
          `of=${disk}`,
          "bs=1M",
          `seek=${p.start * sectorSize}`,
          "oflag=seek_bytes",
          "conv=notrunc",
          "status=none",
        ]);
      }
      return disk;
    }

    const osEnv = {
      DISTRO_NAME: "debian",
      DIB_RELEASE: "bookworm",
      EFI_BOOT_DIR: "EFI/debian",
      DIB_INIT_SYSTEM: "systemd",
      DIB_BLOCK_DEVICE: "gpt",
    };

    async function extract(image: string, target: string, extra: Record<string, string> = {}) {
      mkdirSync(target);
      return runScript(hook, [], {
        ...osEnv,
        TARGET_ROOT: target,
        TMP_BUILD_DIR: work.dir,
        DIB_LOCAL_IMAGE: image,
        ...extra,
      });
    }

    function expectCopied(target: string) {
      const hello = statSync(join(target, "usr/bin/hello"));
      expect(hello.uid).toBe(1234);
      expect(hello.gid).toBe(5678);
      expect(hello.mode & 0o7777).toBe(0o4755);
      expect(readFileSync(join(target, "boot/vmlinuz-test"), "utf8")).toBe("not a kernel\n");
      expect(readFileSync(join(target, "boot/efi/EFI/debian/grubx64.efi"), "utf8")).toBe(
        "not grub\n",
      );
    }

    it("copies root, /boot (by LABEL) and the vfat ESP (by UUID) of a raw 512-byte-sector disk", async () => {
      const disk = await makeDisk("disk512.raw", 512);
      const target = join(work.dir, "target512");
      const r = await extract(disk, target);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expectCopied(target);
      const xattr = await execa("getfattr", [
        "--only-values",
        "-n",
        "user.dib",
        join(target, "usr/bin/hello"),
      ]);
      expect(xattr.stdout).toBe("kept");
      expect(r.stdout).toContain("copying /boot/efi (vfat");
    });

    it("reads a qcow2 image with 4096-byte sectors when DIB_SOURCE_BLOCK_SIZE=4096", async () => {
      const raw = await makeDisk("disk4k.raw", 4096);
      const qcow2 = join(work.dir, "disk4k.qcow2");
      await execa("qemu-img", ["convert", "-O", "qcow2", raw, qcow2]);
      const target = join(work.dir, "target4k");
      const r = await extract(qcow2, target, { DIB_SOURCE_BLOCK_SIZE: "4096" });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("converting");
      expectCopied(target);
      // Read at 512-byte sectors the 4K table is not found: the setting is what makes it work.
      const wrong = await extract(qcow2, join(work.dir, "target4k-as-512"));
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stderr).toContain("DIB_SOURCE_BLOCK_SIZE=4096");
    });

    it("says what is missing: the image, or a root filesystem in it", async () => {
      const unset = await extract("", join(work.dir, "target-unset"));
      expect(unset.exitCode).toBe(1);
      expect(unset.stderr).toContain("DIB_LOCAL_IMAGE is not set");

      const blank = join(work.dir, "blank.raw");
      await execa("truncate", ["-s", "8M", blank]);
      const empty = await extract(blank, join(work.dir, "target-blank"));
      expect(empty.exitCode).toBe(1);
      expect(empty.stderr).toContain("found no root filesystem");

      const noOs = await runScript(hook, [], {
        TARGET_ROOT: join(work.dir, "target-blank"),
        DIB_LOCAL_IMAGE: blank,
      });
      expect(noOs.exitCode).toBe(1);
      expect(noOs.stderr).toContain("DISTRO_NAME is not set");
    });
  },
);
