import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createBlockDevice,
  defaultParams,
  type HostCapabilities,
  probeCapabilities,
} from "@dib/block-device";
import { STOCK_BLOCK_DEVICE_LEVELS as stockPlugins } from "@dib/builder";
import { Host, Ledger, mountsBelow } from "@dib/host";
import {
  blockDeviceConformance,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
} from "@dib/test";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

const { stockUrl } = blockDeviceConformance;

const GiB = 1024 ** 3;

/** Loop devices and mounts that belong to `dir` (other builds share this machine). */
function heldBelow(dir: string, before: HostSnapshot) {
  const now = hostSnapshot();
  const mine = (line: string) => line.includes(dir);
  return {
    loops: now.loops.filter((l) => !before.loops.includes(l) && mine(l)),
    mounts: now.mounts.filter((m) => !before.mounts.includes(m) && mine(m)),
  };
}

interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  name?: string;
  bootable?: boolean;
}

function sfdisk(image: string): { label: string; partitions: SfdiskPartition[] } {
  return JSON.parse(execFileSync("sfdisk", ["--json", image], { encoding: "utf8" })).partitiontable;
}

function mtype(image: string, offset: number, path: string): string {
  return execFileSync("mtype", ["-i", `${image}@@${offset}`, path], {
    encoding: "utf8",
    env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
  });
}

describe.runIf(isRoot)(
  `the stock block-device layouts on real loop devices${rootOnlyReason}`,
  () => {
    // DIB_TEST_TRACE=<file> writes every command line there.
    const trace = process.env.DIB_TEST_TRACE;
    const host = new Host({
      trace: trace !== undefined,
      log: (l) => trace && appendFileSync(trace, `${l}\n`),
    });
    let capabilities: HostCapabilities;
    let before: HostSnapshot;
    let buildDir: string;

    beforeAll(async () => {
      capabilities = await probeCapabilities(host);
    });

    beforeEach(() => {
      before = hostSnapshot();
      buildDir = mkdtempSync(join(tmpdir(), "dib-bd-stock-"));
    });

    afterEach(async () => {
      await Ledger.open(buildDir, host).undo();
      expect(heldBelow(buildDir, before)).toEqual({ loops: [], mounts: [] });
      rmSync(buildDir, { recursive: true, force: true });
    });

    async function build(layout: string, imageSize: number, fill?: (mnt: string) => void) {
      const params = defaultParams(buildDir, { imageSize });
      const bd = createBlockDevice({ plugins: stockPlugins, host, capabilities });
      const init = await bd.init(params, stockUrl(layout));
      const result = await bd.create(params);
      const mnt = join(buildDir, "mnt");
      const mounted = mountsBelow(mnt)
        .map((m) => m.target)
        .sort();
      writeFileSync(join(mnt, "hello"), "root\n");
      fill?.(mnt);
      const fstab = bd.writefstab(params, join(buildDir, "built", "etc", "fstab"));
      await bd.umount(params);
      expect(heldBelow(buildDir, before)).toEqual({ loops: [], mounts: [] });
      await bd.cleanup(params);
      expect(existsSync(join(buildDir, "states", "block-device"))).toBe(false);
      return { init, result, mounted, fstab, image: result.imagePath as string, mnt };
    }

    it("block-device-mbr: one bootable primary partition with the root filesystem", async () => {
      const { init, result, mounted, fstab, image, mnt } = await build("block-device-mbr", 2 * GiB);
      expect(init.rootLabel).toBe("cloudimg-rootfs");
      expect(mounted).toEqual([mnt]);
      const table = sfdisk(image);
      expect(table.label).toBe("dos");
      expect(table.partitions).toMatchObject([
        { start: 2048, size: 4192255 - 2048 + 1, type: "83", bootable: true },
      ]);
      expect(result.state.filesys.mkfs_root).toMatchObject({
        fstype: "ext4",
        label: "cloudimg-rootfs",
      });
      expect(fstab).toBe("LABEL=cloudimg-rootfs / ext4 defaults 0 1\n");
    });

    it("block-device-gpt: a BIOS boot partition and the root filesystem", async () => {
      const { mounted, fstab, image, mnt } = await build("block-device-gpt", 2 * GiB);
      expect(mounted).toEqual([mnt]);
      const table = sfdisk(image);
      expect(table.label).toBe("gpt");
      expect(table.partitions.map((p) => [p.name, p.type])).toEqual([
        ["BSP", "21686148-6449-6E6F-744E-656564454649"],
        ["root", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"],
      ]);
      expect(table.partitions[0]?.size).toBe(8 * 2048);
      expect(fstab).toBe("LABEL=cloudimg-rootfs / ext4 defaults 0 1\n");
    });

    it("block-device-efi: the ESP at /boot/efi holds what hooks wrote there", async () => {
      const { mounted, fstab, image, mnt } = await build("block-device-efi", 3 * GiB, (root) => {
        mkdirSync(join(root, "boot", "efi", "EFI", "BOOT"), { recursive: true });
        writeFileSync(join(root, "boot", "efi", "EFI", "BOOT", "grub.cfg"), "set timeout=1\n");
      });
      expect(mounted).toEqual([mnt, join(mnt, "boot", "efi")]);
      const table = sfdisk(image);
      expect(table.label).toBe("gpt");
      expect(table.partitions.map((p) => [p.name, p.size / 2048])).toEqual([
        ["ESP", 550],
        ["BSP", 8],
        ["root", 2512],
      ]);
      expect(fstab).toBe(
        "LABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=MKFS_ESP /boot/efi vfat defaults 0 2\n",
      );
      const esp = table.partitions[0] as SfdiskPartition;
      expect(mtype(image, esp.start * 512, "::/EFI/BOOT/grub.cfg")).toBe("set timeout=1\n");
      expect(
        execFileSync(
          "blkid",
          ["-p", "-o", "value", "-s", "LABEL", "--offset", String(esp.start * 512), image],
          { encoding: "utf8" },
        ).trim(),
      ).toBe("MKFS_ESP");
    });

    it("block-device-efi-4k: the same on 4096-byte sectors", async () => {
      const { result, fstab, image } = await build("block-device-efi-4k", 3 * GiB, (root) => {
        mkdirSync(join(root, "boot", "efi", "EFI"), { recursive: true });
        writeFileSync(join(root, "boot", "efi", "EFI", "x.txt"), "4k\n");
      });
      expect(result.state.blockdev.image0).toMatchObject({ image });
      // This sfdisk has no --sector-size: read the table through a 4k loop device.
      const ledger = Ledger.open(buildDir, host);
      const loop = await ledger.attachLoop(image, { sectorSize: 4096, readOnly: true });
      const table = sfdisk(loop.detail.device);
      await ledger.release(loop.seq);
      expect(table.label).toBe("gpt");
      expect(table.partitions.map((p) => [p.name, (p.size * 4096) / 1024 ** 2])).toEqual([
        ["ESP", 500],
        ["BSP", 8],
        ["root", 2562],
      ]);
      expect(fstab).toBe(
        "LABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=MKFS_ESP /boot/efi vfat defaults 0 2\n",
      );
      const esp = table.partitions[0] as SfdiskPartition;
      expect(mtype(image, esp.start * 4096, "::/EFI/x.txt")).toBe("4k\n");
    });

    it("block-device-efi-lvm: root, var and home on logical volumes", async () => {
      const { init, mounted, fstab, mnt } = await build("block-device-efi-lvm", 41 * GiB);
      expect(init.rootLabel).toBe("img-rootfs");
      expect(mounted).toEqual([mnt, join(mnt, "boot", "efi"), join(mnt, "home"), join(mnt, "var")]);
      expect(fstab.split("\n").filter(Boolean)).toEqual([
        "LABEL=img-rootfs / xfs rw,relatime 0 1",
        "LABEL=MKFS_ESP /boot/efi vfat defaults 0 2",
        "LABEL=fs_home /home xfs rw,nodev,relatime 0 2",
        "LABEL=fs_var /var xfs rw,relatime 0 2",
      ]);
      expect(readFileSync(join(buildDir, "built", "etc", "fstab"), "utf8")).toBe(fstab);
    });
  },
);
