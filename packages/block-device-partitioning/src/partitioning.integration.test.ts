import { closeSync, mkdtempSync, openSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyState, type HostCapabilities, type NodeContext } from "@dib/block-device";
import { Host, Ledger } from "@dib/host";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { partitionNodeName } from "./partition-devices.js";
import { type PartitioningRecord, partitioningPlugin } from "./partitioning-plugin.js";
import type { PartitioningConfig } from "./schema.js";

const MiB = 1024 ** 2;
const host = new Host({ trace: !!process.env.DIB_TEST_TRACE });
const noKernelHelp: HostCapabilities = {
  deviceMapper: false,
  loopPartitionScan: false,
  partxAdd: false,
  vfatMount: false,
};

describe.runIf(isRoot)(`partitioning a real loop device${rootOnlyReason}`, () => {
  let before: ReturnType<typeof hostSnapshot>;
  let dir: string;
  let ledger: Ledger;

  beforeEach(() => {
    before = hostSnapshot();
    dir = mkdtempSync(join(tmpdir(), "dib-partitioning-"));
    ledger = Ledger.open(dir, host);
  });

  afterEach(async () => {
    await ledger.undo().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /** A sparse image on a loop device taken through the ledger, as local_loop makes it. */
  async function disk(size: number, capabilities: Partial<HostCapabilities>, sectorSize = 512) {
    const image = join(dir, "image0.raw");
    closeSync(openSync(image, "w"));
    truncateSync(image, size);
    const loop = await ledger.attachLoop(image, sectorSize === 512 ? {} : { sectorSize });
    const ctx: NodeContext = {
      host,
      ledger,
      params: { buildDir: dir, imageDir: dir, mountBase: join(dir, "mnt"), rootFsType: "ext4" },
      state: { ...emptyState(), blockdev: { image0: { device: loop.detail.device, image } } },
      capabilities: { ...noKernelHelp, ...capabilities },
      stateDir: join(dir, "states"),
    };
    return { ctx, loop, image };
  }

  async function build(ctx: NodeContext, config: PartitioningConfig) {
    const nodes = partitioningPlugin.nodes({
      config,
      params: ctx.params,
      graph: [],
      index: 1,
      origin: "[1].partitioning",
    });
    for (const node of nodes) await node.create(ctx);
    return nodes;
  }

  async function sizeOf(device: string): Promise<number> {
    return Number((await host.run(["blockdev", "--getsize64", device])).stdout.trim());
  }

  async function teardown(
    ctx: NodeContext,
    nodes: Awaited<ReturnType<typeof build>>,
    loopSeq: number,
  ) {
    for (const node of [...nodes].reverse()) await node.umount?.(ctx);
    await ledger.release(loopSeq);
    expect(ledger.held()).toEqual([]);
    expectHostClean(before, [dir]);
  }

  const mbrWithLogicals: PartitioningConfig = {
    base: "image0",
    label: "mbr",
    partitions: [
      { name: "boot", size: "64MiB", flags: ["boot", "primary"] },
      { name: "swap", size: "32MiB", type: "82" },
      { name: "root", size: "100%" },
    ],
  };

  it("makes an MBR with an extended and logical partitions whose devices have the planned sizes (partx -a)", async () => {
    const { ctx, loop } = await disk(512 * MiB, { partxAdd: true });
    const nodes = await build(ctx, mbrWithLogicals);
    const record = (ctx.state.partitioning as Record<string, PartitioningRecord>)
      .partitioning_image0;
    expect(record?.strategy).toBe("partx");
    expect(ctx.state.blockdev.swap?.device).toBe(partitionNodeName(loop.detail.device, 5));
    expect(await sizeOf(ctx.state.blockdev.boot?.device ?? "")).toBe(64 * MiB);
    expect(await sizeOf(ctx.state.blockdev.swap?.device ?? "")).toBe(32 * MiB);
    // 100% of what is left after the swap's EBR gap: to the end of the disk.
    const rootBacking = ctx.state.blockdev.root?.backing as { offset: number; size: number };
    expect(rootBacking.offset + rootBacking.size).toBe(512 * MiB);
    expect(await sizeOf(ctx.state.blockdev.root?.device ?? "")).toBe(rootBacking.size);
    await host.run(["mkfs.ext4", "-q", "-L", "root", ctx.state.blockdev.root?.device ?? ""]);
    const label = await host.run([
      "blkid",
      "-s",
      "LABEL",
      "-o",
      "value",
      ctx.state.blockdev.root?.device ?? "",
    ]);
    expect(label.stdout.trim()).toBe("root");
    await teardown(ctx, nodes, loop.seq);
  });

  it("reaches the same partitions through a loop device each when the kernel cannot add partitions", async () => {
    const { ctx, loop, image } = await disk(512 * MiB, {});
    const nodes = await build(ctx, mbrWithLogicals);
    expect(
      (ctx.state.partitioning as Record<string, PartitioningRecord>).partitioning_image0?.strategy,
    ).toBe("loop");
    expect(await sizeOf(ctx.state.blockdev.swap?.device ?? "")).toBe(32 * MiB);
    await host.run(["mkfs.ext4", "-q", "-L", "boot", ctx.state.blockdev.boot?.device ?? ""]);
    await teardown(ctx, nodes, loop.seq);
    // The filesystem landed inside partition 1 of the image.
    const probe = await host.run([
      "blkid",
      "-p",
      "-O",
      String(MiB),
      "-s",
      "LABEL",
      "-o",
      "value",
      image,
    ]);
    expect(probe.stdout.trim()).toBe("boot");
  });

  it("makes a GPT with ESP, BIOS boot and root partitions where the plan says", async () => {
    const { ctx, loop } = await disk(1024 * MiB, { partxAdd: true });
    const config: PartitioningConfig = {
      base: "image0",
      label: "gpt",
      partitions: [
        { name: "ESP", type: "EF00", size: "550MiB" },
        { name: "BSP", type: "EF02", size: "8MiB" },
        { name: "root", type: "8300", size: "100%" },
      ],
    };
    const nodes = await build(ctx, config);
    const table = JSON.parse(
      (await host.run(["sfdisk", "--json", loop.detail.device])).stdout,
    ).partitiontable;
    expect(table.partitions.map((p: { type: string; name: string }) => [p.name, p.type])).toEqual([
      ["ESP", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"],
      ["BSP", "21686148-6449-6E6F-744E-656564454649"],
      ["root", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"],
    ]);
    expect(await sizeOf(ctx.state.blockdev.ESP?.device ?? "")).toBe(550 * MiB);
    expect(await sizeOf(ctx.state.blockdev.BSP?.device ?? "")).toBe(8 * MiB);
    expect(await sizeOf(ctx.state.blockdev.root?.device ?? "")).toBe((1024 - 2 - 550 - 8) * MiB);
    await host.run(["mkfs.ext4", "-q", ctx.state.blockdev.root?.device ?? ""]);
    await teardown(ctx, nodes, loop.seq);
  });

  it("partitions a 4K-sector loop device in 4096-byte sectors (GPT and MBR)", async () => {
    for (const label of ["gpt", "mbr"] as const) {
      const { ctx, loop } = await disk(256 * MiB, { partxAdd: true }, 4096);
      const config: PartitioningConfig = {
        base: "image0",
        label,
        partitions: [
          {
            name: "first",
            size: "16MiB",
            ...(label === "mbr" ? { flags: ["primary"] } : { type: "EF00" }),
          },
          { name: "second", size: "100%" },
        ],
      };
      const nodes = await build(ctx, config);
      expect(await sizeOf(ctx.state.blockdev.first?.device ?? "")).toBe(16 * MiB);
      const logical = await host.run([
        "blockdev",
        "--getss",
        ctx.state.blockdev.second?.device ?? "",
      ]);
      expect(logical.stdout.trim()).toBe("4096");
      await host.run(["mkfs.ext4", "-q", ctx.state.blockdev.second?.device ?? ""]);
      await teardown(ctx, nodes, loop.seq);
      rmSync(join(dir, "image0.raw"));
    }
  });

  it("releases the partition devices on rollback", async () => {
    const { ctx, loop } = await disk(512 * MiB, { partxAdd: true });
    const nodes = await build(ctx, mbrWithLogicals);
    for (const node of [...nodes].reverse()) await node.rollback?.(ctx);
    expect(ledger.held().map((e) => e.seq)).toEqual([loop.seq]);
    await ledger.release(loop.seq);
    expectHostClean(before, [dir]);
  });
});
