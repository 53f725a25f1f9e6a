import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BlockDevicePlugin,
  type BlockDeviceState,
  defaultParams,
  emptyState,
  type NodeContext,
  planBlockDevice,
} from "@dib/block-device";
import { Ledger, RecordingHost } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { mountPlugin } from "./mount-plugin.js";

/** Stands in for mkfs: a node per filesystem name. */
const fsStub: BlockDevicePlugin<{ name: string }> = {
  name: "mkfs",
  schema: z.object({ name: z.string() }).passthrough(),
  nodes: ({ config }) => [{ name: config.name, after: [], create: async () => {} }],
};

let dir: string;
let host: RecordingHost;
let ctx: NodeContext;

function context(state: BlockDeviceState, vfatMount: boolean): NodeContext {
  const params = defaultParams(dir, { mountBase: join(dir, "mnt") });
  return {
    host,
    ledger: Ledger.open(dir, host),
    params,
    state,
    capabilities: { deviceMapper: false, loopPartitionScan: false, partxAdd: true, vfatMount },
    stateDir: join(dir, "states", "block-device"),
  };
}

const yaml = `
- mkfs: {name: mkfs_boot, type: ext3}
- mkfs: {name: mkfs_root, type: xfs}
- mkfs: {name: mkfs_var, type: xfs}
- mkfs: {name: mkfs_swap, type: swap}
- mount: {name: mount_mkfs_var, base: mkfs_var, mount_point: /var}
- mount: {name: mount_mkfs_boot, base: mkfs_boot, mount_point: /boot}
- mount: {name: mount_mkfs_root, base: mkfs_root, mount_point: /}
- mount: {name: mount_mkfs_swap, base: mkfs_swap, mount_point: none}
`;

function stateWith(filesys: Record<string, [string, string]>): BlockDeviceState {
  const state = emptyState();
  for (const [name, [device, fstype]] of Object.entries(filesys)) {
    state.filesys[name] = { uuid: "u", label: name, fstype, opts: null, device };
  }
  return state;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dib-mount-test-"));
  host = new RecordingHost();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("mount", () => {
  it("mounts in mount-point order and records the mount order (lvm_tree_partition_ordering)", async () => {
    const graph = planBlockDevice(yaml, {
      plugins: [fsStub, mountPlugin],
      params: defaultParams(dir),
    });
    const mounts = graph.order.filter((n) => n.name.startsWith("mount_"));
    expect(mounts.map((n) => n.name)).toEqual([
      "mount_mkfs_root",
      "mount_mkfs_boot",
      "mount_mkfs_var",
      "mount_mkfs_swap",
    ]);
    ctx = context(
      stateWith({
        mkfs_root: ["/dev/loopXp1", "xfs"],
        mkfs_var: ["/dev/loopXp2", "xfs"],
        mkfs_boot: ["/dev/loopXp3", "vfat"],
        mkfs_swap: ["/dev/loopXp4", "swap"],
      }),
      true,
    );
    for (const node of mounts) await node.create(ctx);
    const mnt = join(dir, "mnt");
    expect(ctx.state.mount_order).toEqual(["/", "/boot", "/var", "none"]);
    expect(ctx.state.sorted_mount_points.map(([mp]) => mp)).toEqual(["/", "/boot", "/var", "none"]);
    expect(host.calls).toEqual([
      ["mount", "-t", "xfs", "/dev/loopXp1", mnt],
      ["mount", "-t", "vfat", "/dev/loopXp3", join(mnt, "boot")],
      ["mount", "-t", "xfs", "/dev/loopXp2", join(mnt, "var")],
    ]);
    expect(ctx.state.mount.none).toEqual({
      name: "mount_mkfs_swap",
      base: "mkfs_swap",
      path: "none",
    });

    host.calls.length = 0;
    for (const node of [...mounts].reverse()) await node.umount?.(ctx);
    // Nothing is really mounted, so the ledger has nothing to unmount: only sync and trim show.
    expect(host.calls).toEqual([
      ["sync"],
      ["fstrim", "--verbose", join(mnt, "var")],
      ["sync"],
      ["sync"],
      ["fstrim", "--verbose", mnt],
    ]);
    expect(ctx.ledger.held()).toEqual([]);
  });

  it("bind-mounts a staging directory for vfat where the kernel cannot mount it, and writes it with mtools", async () => {
    const graph = planBlockDevice(
      "- mkfs: {name: esp}\n- mount: {name: mount_esp, base: esp, mount_point: /boot/efi}",
      { plugins: [fsStub, mountPlugin], params: defaultParams(dir) },
    );
    const node = graph.order[1];
    if (!node) throw new Error("no mount node");
    ctx = context(stateWith({ esp: ["/dev/loop7p1", "vfat"] }), false);
    await node.create(ctx);
    const staging = join(ctx.stateDir, "vfat-staging", "mount_esp");
    const target = join(dir, "mnt", "boot", "efi");
    expect(host.calls).toEqual([["mount", "--bind", staging, target]]);
    expect(ctx.state.mount["/boot/efi"]).toEqual({
      name: "mount_esp",
      base: "esp",
      path: target,
      staging,
    });

    mkdirSync(join(staging, "EFI", "debian"), { recursive: true });
    writeFileSync(join(staging, "EFI", "debian", "grubx64.efi"), "x");
    host.calls.length = 0;
    await node.umount?.(ctx);
    expect(host.calls).toEqual([
      ["sync"],
      [
        "mcopy",
        "-i",
        "/dev/loop7p1",
        "-s",
        "-p",
        "-m",
        "-Q",
        "-D",
        "o",
        join(staging, "EFI"),
        "::/",
      ],
      ["sync"],
    ]);
  });

  it("needs mtools only for vfat and nothing for swap", () => {
    const graph = [
      { mkfs: { name: "esp", type: "vfat" } },
      { mkfs: { name: "root", type: "ext4" } },
      { mkfs: { name: "sw", type: "swap" } },
    ];
    const context = { graph, params: defaultParams(dir) };
    const tools = (base: string) =>
      mountPlugin.tools?.({ name: "m", base, mount_point: "/x" }, context);
    expect(tools("esp")).toContain("mcopy");
    expect(tools("root")).not.toContain("mcopy");
    expect(tools("sw")).toEqual([]);
  });

  it("rejects a missing mount_point in DIB's words", () => {
    expect(() =>
      planBlockDevice("- mkfs: {name: a}\n- mount: {name: m, base: a}", {
        plugins: [fsStub, mountPlugin],
        params: defaultParams(dir),
      }),
    ).toThrow("MountPoint config needs mount_point");
  });

  it("refuses a mount point with .. or a relative one before anything is made", () => {
    const plan = (mountPoint: string) =>
      planBlockDevice(
        `- mkfs: {name: a}\n- mkfs: {name: b}\n- mount: {name: m_a, base: a, mount_point: /}\n- mount: {name: m_b, base: b, mount_point: "${mountPoint}"}`,
        { plugins: [fsStub, mountPlugin], params: defaultParams(dir) },
      );
    expect(() => plan("/../../../hostdir")).toThrow(
      expect.objectContaining({
        code: "DIB_BLOCK_DEVICE_CONFIG",
        message:
          'Config entry mount "m_b" is invalid: [3].mount.mount_point: mount point [/../../../hostdir] contains "..": it must name a directory inside the image',
      }),
    );
    expect(() => plan("relative/dir")).toThrow(
      /mount point \[relative\/dir\] is not an absolute path/,
    );
    expect(() => plan("/boot/")).toThrow(/is not normalised: write it as \/boot/);
  });

  it("mounts below a symlink of the image's tree inside the tree, never on the host", async () => {
    const graph = planBlockDevice(
      "- mkfs: {name: root}\n- mkfs: {name: boot}\n- mount: {name: m_root, base: root, mount_point: /}\n- mount: {name: m_boot, base: boot, mount_point: /boot/efi}",
      { plugins: [fsStub, mountPlugin], params: defaultParams(dir) },
    );
    const mnt = join(dir, "mnt");
    ctx = context(
      stateWith({ root: ["/dev/loopXp1", "ext4"], boot: ["/dev/loopXp2", "ext4"] }),
      true,
    );
    const [, , rootMount, bootMount] = graph.order;
    await rootMount?.create(ctx);
    // What the root filesystem holds once mounted: /boot leads "up" to the host's /etc.
    symlinkSync("/../../../../etc", join(mnt, "boot"));
    await bootMount?.create(ctx);
    expect(host.calls.at(-1)).toEqual([
      "mount",
      "-t",
      "ext4",
      "/dev/loopXp2",
      join(mnt, "etc/efi"),
    ]);
    expect(ctx.state.mount["/boot/efi"]?.path).toBe(join(mnt, "etc/efi"));
    expect(existsSync("/etc/efi")).toBe(false);
  });
});
