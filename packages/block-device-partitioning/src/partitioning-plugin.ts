import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import {
  type BlockDeviceNode,
  type BlockDevicePlugin,
  type BlockDeviceState,
  type NodeContext,
  noDiskError,
  parseAbsoluteSize,
  parseRelativeSize,
} from "@dib/block-device";
import { DibError } from "@dib/host";
import { applyDiskWrites } from "./disk-writes.js";
import { planGpt, sgdiskArgv } from "./gpt-plan.js";
import { checkMbrOrder, planMbr } from "./mbr-plan.js";
import { mbrWrites } from "./mbr-writer.js";
import {
  type DiskDevice,
  exposePartitions,
  type PartitionDeviceStrategy,
} from "./partition-devices.js";
import { type PartitionLayout, partitioningName, planPartitionLayout } from "./partition-layout.js";
import { gptTypeArgument, mbrType, partitionFlags } from "./partition-options.js";
import { type PartitioningConfig, partitioningSchema } from "./schema.js";

/** What a partitioning keeps in the state between create and umount (`state.partitioning[name]`). */
export interface PartitioningRecord {
  disk: string;
  device: string;
  label: "mbr" | "gpt";
  sectorSize: number;
  strategy?: PartitionDeviceStrategy;
  /** Ledger entries of the partition devices, in the order they were taken. */
  held: number[];
  /** Partition nodes created and not yet unmounted (DIB's counter). */
  users: number;
}

/** What the partitioning writes into `state.blockdev[<partition>]`. */
export interface PartitionBlockDev {
  device: string;
  /** Where the partition lies in the image file: lets a level above reach it without device-mapper. */
  backing?: { file: string; offset: number; size: number };
  [key: string]: unknown;
}

function records(state: BlockDeviceState): Record<string, PartitioningRecord> {
  state.partitioning ??= {};
  return state.partitioning as Record<string, PartitioningRecord>;
}

/** Checks everything about a config that does not depend on the disk size (DIB's texts). */
function validate(config: PartitioningConfig): void {
  for (const p of config.partitions) {
    partitionFlags(p, config.label);
    if (config.label === "mbr") mbrType(p);
    else gptTypeArgument(p);
    parseRelativeSize(p.size, 0);
  }
  if (config.align !== undefined) parseAbsoluteSize(config.align);
  if (config.label === "mbr") checkMbrOrder(config);
}

async function sectorSizeOf(ctx: NodeContext, device: string): Promise<number> {
  const { stdout } = await ctx.host.run(["blockdev", "--getss", device]);
  const size = Number(stdout.trim());
  return size > 0 ? size : 512;
}

async function diskSizeOf(ctx: NodeContext, disk: DiskDevice): Promise<number> {
  if (disk.image) return statSync(disk.image).size;
  const { stdout } = await ctx.host.run(["blockdev", "--getsize64", disk.device]);
  return Number(stdout.trim());
}

/** sgdisk decides where GPT partitions go: make sure it agrees with the plan. */
async function checkTable(
  ctx: NodeContext,
  disk: DiskDevice,
  layout: PartitionLayout,
): Promise<void> {
  const { stdout } = await ctx.host.run(["sfdisk", "--json", disk.device]);
  const found = (JSON.parse(stdout).partitiontable?.partitions ?? []) as {
    start: number;
    size: number;
  }[];
  const per512 = disk.sectorSize / 512;
  const actual = found
    .map((p) => `${p.start * per512}-${(p.start + p.size) * per512 - 1}`)
    .join(" ");
  const planned = layout.partitions.map((p) => `${p.start}-${p.end}`).join(" ");
  if (actual !== planned) {
    throw new DibError(
      "DIB_PARTITION_MISMATCH",
      `the partition table of ${disk.device} is not the planned one`,
      {
        hint: `planned ${planned}, found ${actual} (512-byte sectors); is this sgdisk's default alignment?`,
      },
    );
  }
}

async function release(ctx: NodeContext, record: PartitioningRecord): Promise<void> {
  while (record.held.length > 0) {
    const seq = record.held.pop() as number;
    await ctx.ledger.release(seq);
  }
}

async function createTable(
  ctx: NodeContext,
  config: PartitioningConfig,
  name: string,
): Promise<void> {
  const all = records(ctx.state);
  const existing = all[name];
  if (existing && existing.users > 0) {
    existing.users += 1;
    return;
  }
  const base = ctx.state.blockdev[config.base];
  if (!base) {
    throw new DibError(
      "DIB_BLOCK_DEVICE_STATE",
      `partitioning ${name}: no block device '${config.base}' yet`,
      {
        hint: `the node '${config.base}' must be created before its partitions`,
      },
    );
  }
  const disk: DiskDevice = { device: base.device, image: base.image, sectorSize: 512 };
  disk.sectorSize = await sectorSizeOf(ctx, disk.device);
  const diskSize = await diskSizeOf(ctx, disk);
  const layout = planPartitionLayout(config, diskSize, disk.sectorSize);
  const record: PartitioningRecord = {
    disk: config.base,
    device: disk.device,
    label: config.label,
    sectorSize: disk.sectorSize,
    held: [],
    users: 1,
  };
  all[name] = record;
  ctx.host.debug(
    `partitioning ${name}: ${config.label} on ${disk.device}, ${diskSize} bytes, ${disk.sectorSize}-byte sectors`,
  );

  try {
    if (config.label === "mbr") {
      applyDiskWrites(
        disk.device,
        mbrWrites(planMbr(config, diskSize, disk.sectorSize), randomBytes(4).readUInt32LE(0)),
      );
    } else {
      await ctx.host.run(sgdiskArgv(planGpt(config, diskSize, disk.sectorSize), disk.device));
      await checkTable(ctx, disk, layout);
    }
    const extents = layout.partitions.map((p) => ({
      number: p.number,
      offset: p.start * 512,
      size: (p.end - p.start + 1) * 512,
    }));
    const exposed = await exposePartitions(ctx, disk, extents, (seq) => record.held.push(seq));
    record.strategy = exposed.strategy;
    for (const [i, p] of layout.partitions.entries()) {
      const device = exposed.devices[p.number] as string;
      const extent = extents[i] as (typeof extents)[number];
      const entry: PartitionBlockDev = { device };
      if (disk.image)
        entry.backing = { file: disk.image, offset: extent.offset, size: extent.size };
      ctx.state.blockdev[p.name] = entry;
    }
  } catch (error) {
    await release(ctx, record);
    throw error;
  }
}

async function umountTable(ctx: NodeContext, name: string): Promise<void> {
  const record = records(ctx.state)[name];
  if (!record) return;
  record.users = Math.max(0, record.users - 1);
  if (record.users === 0) await release(ctx, record);
}

async function rollbackTable(ctx: NodeContext, name: string): Promise<void> {
  const record = records(ctx.state)[name];
  if (!record) return;
  record.users = 0;
  await release(ctx, record);
}

/**
 * Level 1 `partitioning`: an MBR (written by our own writer) or a GPT (by sgdisk) on a
 * disk, and a block device per partition. Each partition is a node; the first one to be
 * created does all the work, the last one to be unmounted releases the devices.
 */
export const partitioningPlugin: BlockDevicePlugin<PartitioningConfig> = {
  name: "partitioning",
  schema: partitioningSchema,
  nodes({ config }) {
    validate(config);
    const name = partitioningName(config);
    return config.partitions.map((partition, i): BlockDeviceNode => {
      const previous = config.partitions[i - 1];
      return {
        name: partition.name,
        after: previous ? [config.base, previous.name] : [config.base],
        create: (ctx) => createTable(ctx, config, name),
        umount: (ctx) => umountTable(ctx, name),
        rollback: (ctx) => rollbackTable(ctx, name),
      };
    });
  },
  tools(config) {
    return config.label === "gpt" ? ["blockdev", "sgdisk", "sfdisk"] : ["blockdev"];
  },
  layout(config, { disk, origin }) {
    const geometry = disk(config.base);
    if (!geometry) throw noDiskError(`partitioning at ${origin}`, config.base);
    const layout = planPartitionLayout(config, geometry.size, geometry.blockSize);
    return {
      name: layout.name,
      label: layout.label,
      partitions: layout.partitions.map((p) => ({
        name: p.name,
        number: p.number,
        start: p.start,
        end: p.end,
        type: p.type,
        flags: p.flags,
      })),
    };
  },
};
