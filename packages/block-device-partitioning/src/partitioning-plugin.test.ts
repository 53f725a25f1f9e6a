import { readFileSync } from "node:fs";
import type { GraphEntry } from "@dib/block-device";
import { findTool } from "@dib/host";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceDir, layoutCases, partitioningFixture } from "./__fixtures__/conformance.js";
import { fakeContext } from "./__fixtures__/fake-context.js";
import { partxRows, sparseDisk } from "./__fixtures__/sparse-disk.js";
import { exposePartitions } from "./partition-devices.js";
import { partitioningPlugin } from "./partitioning-plugin.js";
import type { PartitioningConfig } from "./schema.js";

const GiB = 1024 ** 3;
const params = { buildDir: "/b", imageDir: "/i", mountBase: "/m", rootFsType: "ext4" };
const nodesOf = (config: PartitioningConfig) =>
  partitioningPlugin.nodes({ config, params, graph: [], index: 1, origin: "[1].partitioning" });

let cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function disk(size: number) {
  const d = sparseDisk(size);
  cleanup.push(d.remove);
  return d.path;
}

describe("partitioning nodes", () => {
  it("makes one node per partition, each after the disk and the partition before it", () => {
    const expected = JSON.parse(
      readFileSync(`${conformanceDir}expected/gpt_efi.expected.json`, "utf8"),
    );
    const nodes = nodesOf(partitioningFixture("tests/config/gpt_efi.yaml"));
    expect(nodes.map((n) => n.name)).toEqual(["ESP", "BSP", "Root Part"]);
    const edges = nodes.flatMap((n) => n.after.map((from) => [from, n.name]));
    const dibEdges = (expected.edges as string[][]).filter(([, to]) =>
      nodes.some((n) => n.name === to),
    );
    expect(edges.sort()).toEqual(dibEdges.sort());
  });

  it("takes the partitioning entry of DIB's graph configs through its strict schema", () => {
    for (const name of ["deep_graph", "lvm_graph", "gpt_efi", "lvm_tree_multiple_partitions"]) {
      const expected = JSON.parse(
        readFileSync(`${conformanceDir}expected/${name}.expected.json`, "utf8"),
      );
      const entry = (expected.graph_config as GraphEntry[]).find(
        (e) => e.partitioning,
      )?.partitioning;
      expect(partitioningPlugin.schema.safeParse(entry).success, name).toBe(true);
    }
  });

  it("reports DIB's messages for a missing base and a bad label", () => {
    const noBase = partitioningPlugin.schema.safeParse({ label: "mbr", partitions: [] });
    expect(noBase.error?.issues.map((i) => i.message)).toEqual([
      "Partitioning config needs 'base'",
    ]);
    const badLabel = partitioningPlugin.schema.safeParse({
      base: "image0",
      label: "dos",
      partitions: [],
    });
    expect(badLabel.error?.issues.map((i) => i.message)).toEqual(["Label must be 'mbr' or 'gpt'"]);
  });

  it("refuses an unquoted number as a partition type, which YAML would have read in decimal", () => {
    const parsed = partitioningPlugin.schema.safeParse({
      base: "image0",
      label: "mbr",
      partitions: [{ name: "p", size: "8MiB", type: 83 }],
    });
    expect(parsed.error?.issues[0]?.message).toMatch(/quoted string/);
  });

  it("checks flags and partition order when the graph is built, before anything is created", () => {
    const config: PartitioningConfig = {
      base: "image0",
      label: "mbr",
      partitions: [
        { name: "l", size: "10MiB" },
        { name: "p", size: "10MiB", flags: ["primary"] },
      ],
    };
    expect(() => nodesOf(config)).toThrow("All primary partitions must be given first");
    expect(() => nodesOf({ ...config, label: "gpt" })).toThrow(
      "Primary flag not supported for GPT partitions",
    );
  });

  it("needs sgdisk and sfdisk only for GPT", () => {
    expect(partitioningPlugin.tools?.({ base: "image0", label: "gpt", partitions: [] })).toContain(
      "sgdisk",
    );
    expect(
      partitioningPlugin.tools?.({ base: "image0", label: "mbr", partitions: [] }),
    ).not.toContain("sgdisk");
  });
});

// sgdisk sleeps a second after writing, so these run side by side.
describe
  .runIf(findTool("sgdisk") && findTool("sfdisk"))
  .concurrent("creating a GPT (recording host)", () => {
    const gptEfi = layoutCases().find((c) => c.config.endsWith("gpt_efi.yaml"));

    it("runs DIB's sgdisk command once for all partitions and gives each its own device", async () => {
      const image = disk(GiB);
      const { ctx, commands, ledgerCalls } = fakeContext({
        blockdev: { image0: { device: image, image } },
      });
      const nodes = nodesOf(partitioningFixture(gptEfi?.config ?? ""));
      for (const node of nodes) await node.create(ctx);

      const sgdisk = commands.filter((c) => c[0] === "sgdisk");
      expect(sgdisk).toEqual([
        gptEfi?.exec_sudo_calls[0]?.map((a) => (a === "/dev/loopX" ? image : a)),
      ]);
      expect(ledgerCalls.map((c) => c.args)).toEqual([
        [image, { offset: 2048 * 512, sizelimit: 8 * 1024 ** 2 }],
        [image, { offset: 18432 * 512, sizelimit: 8 * 1024 ** 2 }],
        [image, { offset: 34816 * 512, sizelimit: 1006 * 1024 ** 2 }],
      ]);
      expect(ctx.state.blockdev.ESP).toEqual({
        device: "/dev/loop10",
        backing: { file: image, offset: 2048 * 512, size: 8 * 1024 ** 2 },
      });
      expect(ctx.state.blockdev["Root Part"]?.device).toBe("/dev/loop12");
    });

    it("releases the partition devices when the last partition is unmounted", async () => {
      const image = disk(GiB);
      const { ctx, ledgerCalls, held } = fakeContext({
        blockdev: { image0: { device: image, image } },
      });
      const nodes = nodesOf(partitioningFixture(gptEfi?.config ?? ""));
      for (const node of nodes) await node.create(ctx);
      const [first, ...rest] = nodes;
      for (const node of rest.reverse()) await node.umount?.(ctx);
      expect(held.size).toBe(3);
      await first?.umount?.(ctx);
      expect(held.size).toBe(0);
      expect(ledgerCalls.filter((c) => c.op === "release").map((c) => c.args[0])).toEqual([
        3, 2, 1,
      ]);
    });

    it("releases everything on rollback, however many partition nodes roll back", async () => {
      const image = disk(GiB);
      const { ctx, held } = fakeContext({ blockdev: { image0: { device: image, image } } });
      const nodes = nodesOf(partitioningFixture(gptEfi?.config ?? ""));
      for (const node of nodes) await node.create(ctx);
      for (const node of [...nodes].reverse()) await node.rollback?.(ctx);
      expect(held.size).toBe(0);
    });
  });

describe("creating an MBR (recording host)", () => {
  const config: PartitioningConfig = {
    base: "image0",
    label: "mbr",
    partitions: [
      { name: "boot", size: "100MiB", flags: ["boot", "primary"] },
      { name: "swap", size: "50MiB", type: "82" },
      { name: "root", size: "100%" },
    ],
  };

  it("writes the table with our own writer and reaches logical partitions by offset", async () => {
    const image = disk(GiB);
    const { ctx, commands, ledgerCalls } = fakeContext({
      blockdev: { image0: { device: image, image } },
    });
    for (const node of nodesOf(config)) await node.create(ctx);
    expect(commands).toEqual([["blockdev", "--getss", image]]);
    expect(partxRows(image)).toEqual([
      "1 2048 206847 0x83 0x80 dos",
      "2 206848 2097151 0xf 0x0 dos",
      "5 208896 311295 0x82 0x0 dos",
      "6 313344 2097151 0x83 0x0 dos",
    ]);
    expect(ledgerCalls.map((c) => (c.args[1] as { offset: number }).offset / 512)).toEqual([
      2048, 208896, 313344,
    ]);
    expect(Object.keys(ctx.state.blockdev)).toEqual(["image0", "boot", "swap", "root"]);
  });

  it("falls back to one loop device per partition when partx makes no device nodes", async () => {
    const image = disk(GiB);
    const { ctx, ledgerCalls, held } = fakeContext({}, { partxAdd: true });
    const exposed = await exposePartitions(
      ctx,
      { device: image, image, sectorSize: 512 },
      [{ number: 1, offset: 1024 ** 2, size: 8 * 1024 ** 2 }],
      () => {},
      100,
    );
    expect(exposed.strategy).toBe("loop");
    expect(ledgerCalls.map((c) => c.op)).toEqual(["acquire", "release", "attachLoop"]);
    expect(held.size).toBe(1);
  });
});
