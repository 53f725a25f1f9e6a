import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BlockDeviceParams,
  createBlockDevice,
  DEFAULT_BLOCK_DEVICE_CONFIG,
  defaultParams,
  type HostCapabilities,
  probeCapabilities,
} from "@dib/block-device";
import { fstabPlugin } from "@dib/block-device-fstab";
import { localLoopPlugin } from "@dib/block-device-loop";
import { mkfsPlugin } from "@dib/block-device-mkfs";
import { mountPlugin } from "@dib/block-device-mount";
import { Host, Ledger, loopDevicesOf, mountsBelow } from "@dib/host";
import { type HostSnapshot, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { Command } from "commander";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { registerBlockDeviceCommand } from "./block-device.js";

const MiB = 1024 * 1024;
const plugins = [localLoopPlugin, mkfsPlugin, mountPlugin, fstabPlugin];

/**
 * expectHostClean, limited to what lives below `dir`: other builds may attach and mount
 * things on this shared machine while the test runs.
 */
function expectCleanBelow(before: HostSnapshot, dir: string): void {
  const now = hostSnapshot();
  const mine = (line: string) => line.includes(dir);
  const loops = now.loops.filter((l) => !before.loops.includes(l) && mine(l));
  const mounts = now.mounts.filter((m) => !before.mounts.includes(m) && mine(m));
  expect({ loops, mounts }).toEqual({ loops: [], mounts: [] });
}

function blkid(device: string): Record<string, string> {
  const out = execFileSync("blkid", ["-o", "export", device], { encoding: "utf8" });
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => l.split("=", 2) as [string, string]),
  );
}

describe.runIf(isRoot)(`block-device lifecycle on real loop devices${rootOnlyReason}`, () => {
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
    const snapshot = hostSnapshot();
    capabilities = await probeCapabilities(host);
    expectCleanBelow(snapshot, "/dib-probe-");
  });

  beforeEach(() => {
    before = hostSnapshot();
    buildDir = mkdtempSync(join(tmpdir(), "dib-bd-it-"));
  });

  afterEach(async () => {
    // Whatever a failed assertion left behind, the ledger knows it.
    await Ledger.open(buildDir, host).undo();
    expectCleanBelow(before, buildDir);
    rmSync(buildDir, { recursive: true, force: true });
  });

  const lifecycle = (overrides: Partial<BlockDeviceParams> = {}) => {
    const params = defaultParams(buildDir, { imageSize: 128 * MiB, ...overrides });
    const bd = createBlockDevice({ plugins, host, capabilities });
    return { params, bd };
  };

  it("probes what this host can do, leaving nothing behind", () => {
    expect(Object.keys(capabilities).sort()).toEqual([
      "deviceMapper",
      "loopPartitionScan",
      "partxAdd",
      "vfatMount",
    ]);
    const vfatKnown = readFileSync("/proc/filesystems", "utf8").includes("vfat");
    if (vfatKnown) expect(capabilities.vfatMount).toBe(true);
  });

  it.each([
    ["ext4", "cloudimg-rootfs", 128 * MiB],
    ["xfs", "img-rootfs", 320 * MiB],
    ["btrfs", "cloudimg-rootfs", 256 * MiB],
  ])(
    "builds a %s filesystem-only image, fstab included, and releases it all",
    async (type, label, size) => {
      const { params, bd } = lifecycle({ rootFsType: type, imageSize: size });
      const init = await bd.init(params, DEFAULT_BLOCK_DEVICE_CONFIG);
      expect(init).toMatchObject({ rootLabel: label, rootFsType: type, mountPoints: ["/"] });

      const result = await bd.create(params);
      const image = join(buildDir, "image0.raw");
      expect(result.imagePath).toBe(image);
      expect(result.rootMount).toBe(join(buildDir, "mnt"));
      expect(loopDevicesOf(image)).toEqual([result.imageDevice]);
      const id = blkid(result.imageDevice as string);
      expect(id).toMatchObject({
        TYPE: type,
        LABEL: label,
        UUID: result.state.filesys.mkfs_root?.uuid,
      });
      expect(mountsBelow(join(buildDir, "mnt")).map((m) => [m.target, m.fstype])).toEqual([
        [join(buildDir, "mnt"), type],
      ]);
      writeFileSync(join(buildDir, "mnt", "hello"), "world\n");
      expect(bd.getval(params, "image-path")).toBe(image);
      expect(bd.getval(params, "root-label")).toBe(label);

      const fstab = join(buildDir, "built", "etc", "fstab");
      bd.writefstab(params, fstab);
      expect(readFileSync(fstab, "utf8")).toBe(`LABEL=${label} / ${type} defaults 0 1\n`);

      await bd.umount(params);
      expect(loopDevicesOf(image)).toEqual([]);
      expect(mountsBelow(join(buildDir, "mnt"))).toEqual([]);
      await bd.cleanup(params);
      expect(existsSync(join(buildDir, "states", "block-device"))).toBe(false);
      expect(existsSync(image)).toBe(true);
      if (type === "ext4") {
        expect(
          execFileSync("debugfs", ["-R", "cat /hello", image], { encoding: "utf8", stdio: "pipe" }),
        ).toBe("world\n");
      }
    },
  );

  it("builds a vfat filesystem the kernel cannot mount: hooks see a directory, mtools writes it", async () => {
    const { params, bd } = lifecycle({
      rootFsType: "vfat",
      rootLabel: "DIBROOT",
      imageSize: 64 * MiB,
    });
    await bd.init(params, DEFAULT_BLOCK_DEVICE_CONFIG);
    const result = await bd.create(params);
    expect(blkid(result.imageDevice as string)).toMatchObject({ TYPE: "vfat", LABEL: "DIBROOT" });
    const mnt = join(buildDir, "mnt");
    expect(mountsBelow(mnt)).toHaveLength(1);
    execFileSync("mkdir", ["-p", join(mnt, "EFI", "debian")]);
    writeFileSync(join(mnt, "EFI", "debian", "grub.cfg"), "set timeout=1\n");
    writeFileSync(join(mnt, ".hidden"), "dot\n");

    await bd.umount(params);
    await bd.cleanup(params);
    const image = join(buildDir, "image0.raw");
    const mtype = (path: string) =>
      execFileSync("mtype", ["-i", image, path], {
        encoding: "utf8",
        env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
      });
    expect(mtype("::/EFI/debian/grub.cfg")).toBe("set timeout=1\n");
    expect(mtype("::/.hidden")).toBe("dot\n");
  });

  it("rolls everything back when local_loop cannot attach its file", async () => {
    const { params, bd } = lifecycle();
    await bd.init(params, "- local_loop: {name: image0, block_size: 1000}\n");
    await expect(bd.create(params)).rejects.toMatchObject({ code: "DIB_COMMAND_FAILED" });
    expect(existsSync(join(buildDir, "image0.raw"))).toBe(false);
    expect(Ledger.open(buildDir, host).held()).toEqual([]);
  });

  it("rolls everything back when mkfs fails", async () => {
    const { params, bd } = lifecycle({ rootFsOpts: "--no-such-option" });
    await bd.init(params, DEFAULT_BLOCK_DEVICE_CONFIG);
    await expect(bd.create(params)).rejects.toThrow(/mkfs\.ext4 .*failed/);
    expect(existsSync(join(buildDir, "image0.raw"))).toBe(false);
    expect(Ledger.open(buildDir, host).held()).toEqual([]);
    expect(
      JSON.parse(readFileSync(join(buildDir, "states", "block-device", "state.json"), "utf8")),
    ).toMatchObject({
      blockdev: { image0: { image: join(buildDir, "image0.raw") } },
    });
  });

  it("rolls everything back when a mount point cannot be made", async () => {
    // Below a regular file no directory can be made.
    writeFileSync(join(buildDir, "a-file"), "");
    const { params, bd } = lifecycle({ mountBase: join(buildDir, "a-file", "mnt") });
    await bd.init(params, DEFAULT_BLOCK_DEVICE_CONFIG);
    await expect(bd.create(params)).rejects.toThrow(/ENOTDIR/);
    expect(existsSync(join(buildDir, "image0.raw"))).toBe(false);
    expect(Ledger.open(buildDir, host).held()).toEqual([]);
  });

  it("unmounts what was mounted when a later mount fails in the kernel", async () => {
    const { params } = lifecycle();
    // Claim vfat mounts here: where the kernel really cannot, the second mount fails.
    const claims = createBlockDevice({
      plugins,
      host,
      capabilities: { ...capabilities, vfatMount: true },
    });
    const config = `
- local_loop: {name: image0}
- local_loop: {name: image1, size: 32MiB}
- mkfs: {name: mkfs_root, base: image0, type: ext4, mount: {mount_point: /}}
- mkfs: {name: efi, base: image1, type: vfat, mount: {mount_point: /boot/efi}}
`;
    await claims.init(params, config);
    if (capabilities.vfatMount) {
      await claims.create(params);
      await claims.umount(params);
      await claims.cleanup(params);
      return;
    }
    await expect(claims.create(params)).rejects.toThrow(/mount .*vfat/);
    expect(mountsBelow(join(buildDir, "mnt"))).toEqual([]);
    expect(existsSync(join(buildDir, "image0.raw"))).toBe(false);
    expect(existsSync(join(buildDir, "image1.raw"))).toBe(false);
    expect(Ledger.open(buildDir, host).held()).toEqual([]);
  });

  it("runs through `dib-cli block-device` on a build directory", async () => {
    const out: string[] = [];
    const spy = vi
      .spyOn(process.stdout, "write")
      .mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
    const cli = async (...args: string[]) => {
      const program = new Command("dib-cli").exitOverride();
      registerBlockDeviceCommand(program, plugins);
      out.length = 0;
      await program.parseAsync(["block-device", ...args, "--build-dir", buildDir], {
        from: "user",
      });
      return out.join("");
    };
    try {
      await cli("init", "--image-size", "320MiB", "--root-fs-type", "xfs");
      expect(await cli("getval", "root-label")).toBe("img-rootfs\n");
      const created = JSON.parse(await cli("create", "--json"));
      expect(created.imagePath).toBe(join(buildDir, "image0.raw"));
      expect(await cli("getval", "image-block-device")).toBe(`${created.imageDevice}\n`);
      await cli("writefstab");
      expect(readFileSync(join(buildDir, "built", "etc", "fstab"), "utf8")).toBe(
        "LABEL=img-rootfs / xfs defaults 0 1\n",
      );
      await cli("umount");
      await cli("cleanup");
    } finally {
      spy.mockRestore();
    }
    expect(existsSync(join(buildDir, "states", "block-device"))).toBe(false);
  });

  it("rejects bad input before the host is touched", async () => {
    const { params, bd } = lifecycle();
    await expect(
      bd.init(
        params,
        `- local_loop: {name: image0}\n- mkfs: {name: mkfs_root, base: image0, mount: {mount_point: /, fstab: {fsck-passno: -1}}}`,
      ),
    ).rejects.toMatchObject({ code: "DIB_BLOCK_DEVICE_CONFIG" });
    // A config that validates but needs a tool this host lacks fails before anything is made.
    await bd.init(
      params,
      "- local_loop: {name: image0}\n- mkfs: {name: fs, base: image0, type: nosuchfs}",
    );
    await expect(bd.create(params)).rejects.toMatchObject({ code: "DIB_TOOL_MISSING" });
    expect(Ledger.open(buildDir, host).entries()).toEqual([]);
    expect(existsSync(join(buildDir, "image0.raw"))).toBe(false);
  });
});
