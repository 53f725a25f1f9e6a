import { parseRelativeSize } from "@dib/block-device";
import { DibError } from "@dib/host";
import { gptTypeArgument, partitionFlags } from "./partition-options.js";
import type { PartitioningConfig } from "./schema.js";

export interface GptPartition {
  name: string;
  number: number;
  /** The type as sgdisk gets it (the config's string, default `8300`). */
  type: string;
  /** Whole MiB, as in `-n k:0:+<MiB>M`. */
  mebibytes: number;
  /** Where sgdisk puts it, in the disk's own sectors (inclusive). */
  start: number;
  end: number;
}

export interface GptPlan {
  sectorSize: number;
  partitions: GptPartition[];
}

const MiB = 1024 * 1024;
const ENTRIES_BYTES = 128 * 128;

function tooSmall(name: string): DibError {
  return new DibError(
    "DIB_BLOCK_DEVICE_CONFIG",
    "The requested size of the image is smaller than the block device configuration.",
    {
      hint: `partition '${name}' does not fit on the disk: make the image larger (--image-size) or the partitions smaller`,
    },
  );
}

/**
 * DIB's GPT sizing (whole MiB of `N%` of what is left of the disk minus 2 MiB), and where
 * sgdisk places each `-n k:0:+NM`: at the start of the largest free block, rounded up to
 * its 1 MiB alignment, ending N MiB later.
 */
export function planGpt(config: PartitioningConfig, diskSize: number, sectorSize = 512): GptPlan {
  const totalSectors = Math.floor(diskSize / sectorSize);
  const tableSectors = Math.ceil(ENTRIES_BYTES / sectorSize);
  const firstUsable = 2 + tableSectors;
  const lastUsable = totalSectors - 2 - tableSectors;
  const alignment = Math.max(1, MiB / sectorSize);
  const used: { start: number; end: number }[] = [];
  const partitions: GptPartition[] = [];

  let free = diskSize - 2 * MiB;
  config.partitions.forEach((partition, index) => {
    partitionFlags(partition, "gpt");
    const type = gptTypeArgument(partition);
    const size = parseRelativeSize(partition.size, free).bytes;
    if (size > free) throw tooSmall(partition.name);
    free -= size;
    const mebibytes = Math.floor(size / MiB);
    if (mebibytes < 1) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_CONFIG",
        `GPT partition '${partition.name}' is smaller than 1 MiB`,
        {
          hint: "GPT partitions are made in whole MiB; give it at least 1MiB",
        },
      );
    }
    const block = largestFreeBlock(firstUsable, lastUsable, used);
    const start = block ? Math.ceil(block.start / alignment) * alignment : Number.NaN;
    const end = start + (mebibytes * MiB) / sectorSize - 1;
    if (!block || !(end <= block.end)) throw tooSmall(partition.name);
    used.push({ start, end });
    partitions.push({ name: partition.name, number: index + 1, type, mebibytes, start, end });
  });
  return { sectorSize, partitions };
}

function largestFreeBlock(
  first: number,
  last: number,
  used: readonly { start: number; end: number }[],
): { start: number; end: number } | undefined {
  let best: { start: number; end: number } | undefined;
  let cursor = first;
  for (const u of [...used].sort((a, b) => a.start - b.start)) {
    if (u.start > cursor && (!best || u.start - 1 - cursor > best.end - best.start)) {
      best = { start: cursor, end: u.start - 1 };
    }
    cursor = Math.max(cursor, u.end + 1);
  }
  if (last >= cursor && (!best || last - cursor > best.end - best.start))
    best = { start: cursor, end: last };
  return best;
}

/** The single sgdisk command DIB runs: `sgdisk DEV -n k:0:+NM -t k:TYPE -c k:NAME …`. */
export function sgdiskArgv(plan: GptPlan, device: string): string[] {
  const argv = ["sgdisk", device];
  for (const p of plan.partitions) {
    argv.push(
      "-n",
      `${p.number}:0:+${p.mebibytes}M`,
      "-t",
      `${p.number}:${p.type}`,
      "-c",
      `${p.number}:${p.name}`,
    );
  }
  return argv;
}
