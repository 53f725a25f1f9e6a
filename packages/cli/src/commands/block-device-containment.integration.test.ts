import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBlockDevice, defaultParams } from "@dib/block-device";
import { fstabPlugin } from "@dib/block-device-fstab";
import { localLoopPlugin } from "@dib/block-device-loop";
import { mkfsPlugin } from "@dib/block-device-mkfs";
import { mountPlugin } from "@dib/block-device-mount";
import { Host, Ledger, mountsBelow, readMountinfo, safeRemove } from "@dib/host";
import { type HostSnapshot, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerBlockDeviceCommand } from "./block-device.js";

const plugins = [localLoopPlugin, mkfsPlugin, mountPlugin, fstabPlugin];

/** `dib-cli ARGS` in this process (the CLI's own command objects, no build needed). */
async function dibCli(args: string[]): Promise<void> {
  const program = new Command("dib-cli").exitOverride();
  registerBlockDeviceCommand(program, plugins);
  await program.parseAsync(args, { from: "user" });
}

/** Two small disks: `/` on image0 and a second filesystem at `mountPoint` on image1. */
function twoDiskConfig(mountPoint: string): string {
  return [
    "- local_loop: {name: image0, size: 32MiB}",
    "- local_loop: {name: image1, size: 32MiB}",
    "- mkfs: {name: mkfs_root, base: image0, type: ext4}",
    "- mkfs: {name: mkfs_data, base: image1, type: ext4, label: data}",
    "- mount: {name: mount_root, base: mkfs_root, mount_point: /}",
    `- mount: {name: mount_data, base: mkfs_data, mount_point: "${mountPoint}"}`,
  ].join("\n");
}

describe.runIf(isRoot)(`mounts stay inside the build directory${rootOnlyReason}`, () => {
  const host = new Host({ log: () => {} });
  let before: HostSnapshot;
  /** The scratch directory; the build directory is two levels below it. */
  let scratch: string;
  let buildDir: string;

  const newMountsOrLoops = () => {
    const now = hostSnapshot();
    return {
      loops: now.loops.filter((l) => !before.loops.includes(l) && l.includes(scratch)),
      // every escape these configs could make lands in the scratch directory (hostdir,
      // host-etc), so other builds on this shared machine do not count
      mounts: now.mounts.filter((m) => !before.mounts.includes(m) && m.startsWith(scratch)),
    };
  };

  beforeEach(() => {
    before = hostSnapshot();
    scratch = mkdtempSync(join(tmpdir(), "dib-contain-it-"));
    buildDir = join(scratch, "a", "build");
    mkdirSync(buildDir, { recursive: true });
  });

  afterEach(async () => {
    await Ledger.open(buildDir, host).undo();
    expect(newMountsOrLoops()).toEqual({ loops: [], mounts: [] });
    rmSync(scratch, { recursive: true, force: true });
  });

  it.each([
    ["/../../../hostdir", 'contains ".."'],
    ["relative/dir", "is not an absolute path"],
  ])("refuses mount_point %s in init, before anything is made", async (mountPoint, why) => {
    const args = ["block-device", "init", "--build-dir", buildDir, "--json"];
    await expect(dibCli([...args, "--config", twoDiskConfig(mountPoint)])).rejects.toMatchObject({
      code: "DIB_BLOCK_DEVICE_CONFIG",
      message: expect.stringContaining(`mount point [${mountPoint}] ${why}`),
    });
    // `<build>/mnt/../../../hostdir` would have been the scratch directory's hostdir
    expect(existsSync(join(scratch, "hostdir"))).toBe(false);
    expect(readdirSync(buildDir)).toEqual([]);
    await expect(dibCli(["block-device", "create", "--build-dir", buildDir])).rejects.toMatchObject(
      { code: "DIB_BLOCK_DEVICE_STATE" },
    );
    expect(readdirSync(buildDir).filter((f) => f.endsWith(".raw"))).toEqual([]);
  });

  it("mounts below a hostile symlink of the tree inside the tree, and removes the link, not its target", async () => {
    // The mount base is a tree an element made: /boot leads "up" out of it, to the host.
    const tree = join(buildDir, "built");
    mkdirSync(tree);
    const hostSide = join(scratch, "host-etc");
    mkdirSync(hostSide);
    symlinkSync("/../../../../../../../../../../..".concat(hostSide), join(tree, "boot"));
    const config = [
      "- local_loop: {name: image0, size: 32MiB}",
      "- mkfs: {name: mkfs_esp, base: image0, type: ext4, label: esp}",
      "- mount: {name: mount_esp, base: mkfs_esp, mount_point: /boot/efi}",
    ].join("\n");
    const params = defaultParams(buildDir, { mountBase: tree });
    const bd = createBlockDevice({ plugins, host });
    await bd.init(params, config);
    const result = await bd.create(params);

    const inside = join(tree, hostSide.slice(1), "efi");
    expect(result.mounts).toEqual([{ mountPoint: "/boot/efi", path: inside }]);
    expect(mountsBelow(tree).map((m) => m.target)).toEqual([inside]);
    expect(readMountinfo().filter((m) => m.target.startsWith(hostSide))).toEqual([]);
    expect(readdirSync(hostSide)).toEqual([]);

    await bd.umount(params);
    await bd.cleanup(params);
    expect(mountsBelow(buildDir)).toEqual([]);

    // a removal through the same link stays inside too
    mkdirSync(join(hostSide, "keep"));
    safeRemove(join(tree, "boot", "keep"), { within: tree });
    safeRemove(join(tree, "boot"), { within: tree });
    expect(existsSync(join(hostSide, "keep"))).toBe(true);
    expect(existsSync(join(tree, "boot"))).toBe(false);
  });
});
