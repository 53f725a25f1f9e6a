import type { BlockDeviceNode, NodeContext } from "@dib/block-device";
import { describe, expect, it } from "vitest";
import { expected, lvmEntry } from "./__fixtures__/conformance.js";
import { fakeContext } from "./__fixtures__/fake-context.js";
import { lvmPlugin } from "./lvm-plugin.js";
import type { LvmConfig } from "./schema.js";

const params = { buildDir: "/b", imageDir: "/i", mountBase: "/m", rootFsType: "ext4" };
const configOf = (name: string) => lvmPlugin.schema.parse(lvmEntry(name)) as LvmConfig;
const nodesOf = (config: LvmConfig) =>
  lvmPlugin.nodes({ config, params, graph: [], index: 2, origin: "[2].lvm" });
const lvmCommands = (commands: string[][]) =>
  commands.filter((c) => ["pvcreate", "vgcreate", "lvcreate"].includes(c[0] ?? ""));

/** Runs a lifecycle step on every node, in DIB's call order or its reverse. */
async function each(
  nodes: BlockDeviceNode[],
  step: "create" | "umount" | "cleanup" | "rollback",
  ctx: NodeContext,
) {
  const order = step === "create" ? nodes : [...nodes].reverse();
  for (const node of order) await node[step]?.(ctx);
}

describe("lvm nodes", () => {
  it("has DIB's nodes and edges: partitions → lvm → pvs → vgs → lvs", () => {
    const dib = expected("lvm_tree_multiple_pv");
    const nodes = nodesOf(configOf("lvm_tree_multiple_pv"));
    const names = new Set(nodes.map((n) => n.name));
    const edges = nodes.flatMap((n) => [
      ...n.after.map((from) => [from, n.name]),
      ...(n.before ?? []).map((to) => [n.name, to]),
    ]);
    const dibEdges = dib.edges.filter(
      ([from, to]) => names.has(to) || (names.has(from) && names.has(to)),
    );
    expect(edges.sort()).toEqual(dibEdges.sort());
    expect([...names].sort()).toEqual(
      dib.nodes.filter((n) => /^(lvm|pv|pv1|vg|lv_)/.test(n)).sort(),
    );
  });
});

describe("lvm with device-mapper (recording host)", () => {
  it("runs DIB's commands for two PVs in one VG and records DIB's state", async () => {
    const dib = expected("lvm_tree_multiple_pv");
    const { ctx, commands } = fakeContext({
      state: {
        blockdev: { root: { device: "/dev/fake/root" }, data: { device: "/dev/fake/data" } },
      },
    });
    await each(nodesOf(configOf("lvm_tree_multiple_pv")), "create", ctx);
    expect(lvmCommands(commands)).toEqual(lvmCommands(dib.simulated_create_commands));
    expect(ctx.state.blockdev).toEqual(dib.simulated_state_after_create.blockdev);
    expect(ctx.state.pvs).toEqual(dib.simulated_state_after_create.pvs);
    expect(ctx.state.vgs).toEqual(dib.simulated_state_after_create.vgs);
  });

  it("creates a thin pool and thin volumes with -V, as DIB does", async () => {
    const dib = expected("lvm_tree_thin_provision");
    const { ctx, commands } = fakeContext({
      state: { blockdev: { root: { device: "/dev/fake/root" } } },
    });
    await each(nodesOf(configOf("lvm_tree_thin_provision")), "create", ctx);
    expect(lvmCommands(commands)).toEqual(lvmCommands(dib.simulated_create_commands));
    expect(ctx.state.blockdev).toEqual(dib.simulated_state_after_create.blockdev);
  });

  it("uses extents as given", async () => {
    const dib = expected("lvm_tree_multiple_partitions");
    const { ctx, commands } = fakeContext({
      state: { blockdev: { root: { device: "/dev/fake/root" } } },
    });
    await each(nodesOf(configOf("lvm_tree_multiple_partitions")), "create", ctx);
    expect(lvmCommands(commands)).toEqual(lvmCommands(dib.simulated_create_commands));
  });

  it("deactivates the LVs, then the VG, settles udev and rescans on cleanup, as DIB does", async () => {
    const dib = expected("lvm_tree_thin_provision");
    const { ctx, commands, held } = fakeContext({
      state: { blockdev: { root: { device: "/dev/fake/root" } } },
    });
    const nodes = nodesOf(configOf("lvm_tree_thin_provision"));
    await each(nodes, "create", ctx);
    commands.length = 0;
    await each(nodes, "umount", ctx);
    await each(nodes, "cleanup", ctx);
    expect(commands).toEqual(
      dib.simulated_umount_cleanup_commands.filter((c) =>
        ["lvchange", "vgchange", "udevadm", "pvscan"].includes(c[0] ?? ""),
      ),
    );
    expect(held.size).toBe(0);
  });

  it("removes what it made on rollback, LVs before their VG", async () => {
    const { ctx, commands, held } = fakeContext({
      state: { blockdev: { root: { device: "/dev/fake/root" } } },
    });
    const nodes = nodesOf(configOf("lvm_tree_thin_provision"));
    await each(nodes, "create", ctx);
    commands.length = 0;
    await each(nodes, "rollback", ctx);
    expect(commands.slice(0, 2)).toEqual([
      ["lvchange", "--activate", "n", "vg/lv_home"],
      ["lvremove", "--yes", "/dev/vg/lv_home"],
    ]);
    expect(commands.slice(-2)).toEqual([
      ["vgremove", "--yes", "--force", "vg"],
      ["vgchange", "-an", "vg"],
    ]);
    expect(held.size).toBe(0);
  });
});

describe("lvm without device-mapper (recording host)", () => {
  const image = "/images/image0.raw";
  const partitionOffset = 34816 * 512;
  const respond = (argv: readonly string[]) => {
    const report = (kind: string, rows: Record<string, string>[]) =>
      JSON.stringify({ report: [{ [kind]: rows }] });
    if (argv[0] === "pvs") return report("pv", [{ pv_name: "/dev/loop0p3", pe_start: "1048576" }]);
    if (argv[0] === "vgs") return report("vg", [{ vg_name: "vg", vg_extent_size: "4194304" }]);
    if (argv[0] === "blockdev") return "512\n";
    if (argv[0] === "lvs") {
      return report("seg", [
        {
          vg_name: "vg",
          lv_name: "lv_root",
          segtype: "linear",
          seg_size_pe: "114",
          seg_pe_ranges: "/dev/loop0p3:0-113",
        },
        {
          vg_name: "vg",
          lv_name: "lv_var",
          segtype: "linear",
          seg_size_pe: "284",
          seg_pe_ranges: "/dev/loop0p3:114-397",
        },
        {
          vg_name: "vg",
          lv_name: "lv_home",
          segtype: "linear",
          seg_size_pe: "99",
          seg_pe_ranges: "/dev/loop0p3:398-496",
        },
      ]);
    }
    return undefined;
  };
  const efiLvm: LvmConfig = {
    name: "lvm",
    pvs: [{ name: "pv", base: "root", options: ["--force"] }],
    vgs: [{ name: "vg", base: ["pv"], options: ["--force"] }],
    lvs: [
      { name: "lv_root", base: "vg", extents: "23%VG" },
      { name: "lv_var", base: "vg", extents: "57%VG" },
      { name: "lv_home", base: "vg", extents: "20%VG" },
    ],
  };
  const state = {
    blockdev: {
      root: {
        device: "/dev/loop0p3",
        backing: { file: image, offset: partitionOffset, size: 2000 * 1024 ** 2 },
      },
    },
  };

  it("writes only metadata, seeing only this build's PVs", async () => {
    const { ctx, commands } = fakeContext({
      state,
      capabilities: { deviceMapper: false },
      respond,
    });
    await each(nodesOf(efiLvm), "create", ctx);
    const scope = ["--config", "global { activation = 0 }", "--devices", "/dev/loop0p3"];
    expect(lvmCommands(commands)).toEqual([
      ["pvcreate", ...scope, "/dev/loop0p3", "--force"],
      ["vgcreate", ...scope, "vg", "/dev/loop0p3", "--force"],
      [
        "lvcreate",
        ...scope,
        "--activate",
        "n",
        "--zero",
        "n",
        "--name",
        "lv_root",
        "-l",
        "23%VG",
        "vg",
      ],
      [
        "lvcreate",
        ...scope,
        "--activate",
        "n",
        "--zero",
        "n",
        "--name",
        "lv_var",
        "-l",
        "57%VG",
        "vg",
      ],
      [
        "lvcreate",
        ...scope,
        "--activate",
        "n",
        "--zero",
        "n",
        "--name",
        "lv_home",
        "-l",
        "20%VG",
        "vg",
      ],
    ]);
  });

  it("puts a loop device over each LV's extents in the image file", async () => {
    const { ctx, loops } = fakeContext({ state, capabilities: { deviceMapper: false }, respond });
    await each(nodesOf(efiLvm), "create", ctx);
    const extent = 4 * 1024 ** 2;
    const pvData = partitionOffset + 1024 ** 2;
    expect(loops.map((l) => [l.file, l.options])).toEqual([
      [image, { offset: pvData, sizelimit: 114 * extent }],
      [image, { offset: pvData + 114 * extent, sizelimit: 284 * extent }],
      [image, { offset: pvData + 398 * extent, sizelimit: 99 * extent }],
    ]);
    expect(ctx.state.blockdev.lv_var).toMatchObject({
      vgs: "vg",
      extents: "57%VG",
      device: "/dev/loop21",
    });
  });

  it("detaches the LV loop devices on umount and touches no device-mapper", async () => {
    const { ctx, commands, held } = fakeContext({
      state,
      capabilities: { deviceMapper: false },
      respond,
    });
    const nodes = nodesOf(efiLvm);
    await each(nodes, "create", ctx);
    commands.length = 0;
    await each(nodes, "umount", ctx);
    await each(nodes, "cleanup", ctx);
    expect(commands.map((c) => c[0])).toEqual(["losetup", "losetup", "losetup"]);
    expect(held.size).toBe(0);
  });

  it("refuses thin pools before anything is created, and says what would work", () => {
    const thin = configOf("lvm_tree_thin_provision");
    const noDm = {
      deviceMapper: false,
      loopPartitionScan: false,
      partxAdd: true,
      vfatMount: false,
    };
    expect(lvmPlugin.unsupported?.(thin, noDm)).toMatch(
      /thin-pool: thin provisioning needs device-mapper.*host with device-mapper/,
    );
    expect(lvmPlugin.unsupported?.(thin, { ...noDm, deviceMapper: true })).toBeUndefined();
    expect(lvmPlugin.unsupported?.(efiLvm, noDm)).toBeUndefined();
    const striped = {
      ...efiLvm,
      lvs: [{ name: "s", base: "vg", size: "1G", options: ["--stripes", "2"] }],
    };
    expect(lvmPlugin.unsupported?.(striped, noDm)).toMatch(/--stripes/);
  });
});
