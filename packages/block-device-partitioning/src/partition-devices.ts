import { existsSync, readFileSync, realpathSync } from "node:fs";
import { basename } from "node:path";
import type { NodeContext } from "@dib/block-device";
import { DibError } from "@dib/host";

/**
 * How the partitions of a disk become block devices:
 * - `kernel`: the loop device scans its own table (partscan) and the kernel makes loopNpK;
 * - `partx`: `partx -a` adds loopNpK through BLKPG (needs no partition-table parsers);
 * - `loop`: one loop device per partition at its offset in the image file.
 */
export type PartitionDeviceStrategy = "kernel" | "partx" | "loop";

export interface DiskDevice {
  /** The disk's block device (a loop device). */
  device: string;
  /** The image file behind it, when there is one. */
  image?: string | undefined;
  sectorSize: number;
}

/** Where a partition lies on its disk, in bytes. */
export interface PartitionExtent {
  number: number;
  offset: number;
  size: number;
}

export interface PartitionDevices {
  strategy: PartitionDeviceStrategy;
  /** Partition number → block device. */
  devices: Record<number, string>;
}

/** The kernel's name for partition `number` of `device`: loop0 → loop0p1, sda → sda1. */
export function partitionNodeName(device: string, number: number): string {
  return `${device}${/\d$/.test(device) ? "p" : ""}${number}`;
}

/** The strategies worth trying on this host, best first. */
function partitionDeviceStrategies(
  ctx: Pick<NodeContext, "capabilities">,
  disk: DiskDevice,
): PartitionDeviceStrategy[] {
  const order: PartitionDeviceStrategy[] = [];
  if (ctx.capabilities.loopPartitionScan && loopScansPartitions(disk.device)) order.push("kernel");
  if (ctx.capabilities.partxAdd) order.push("partx");
  if (disk.image) order.push("loop");
  return order;
}

function loopScansPartitions(device: string): boolean {
  try {
    return readFileSync(`/sys/block/${basename(device)}/loop/partscan`, "utf8").trim() === "1";
  } catch {
    return false;
  }
}

function sysfsSizeBytes(device: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/block/${basename(device)}/size`, "utf8").trim()) * 512;
  } catch {
    return undefined;
  }
}

async function kernelNodesAppear(
  partitions: readonly PartitionExtent[],
  disk: DiskDevice,
  waitMs: number,
): Promise<Record<number, string>> {
  const devices: Record<number, string> = {};
  const deadline = Date.now() + waitMs;
  for (const p of partitions) {
    const node = partitionNodeName(disk.device, p.number);
    while (!(existsSync(node) && sysfsSizeBytes(node) === p.size)) {
      if (Date.now() > deadline) {
        throw new DibError("DIB_PARTITION_DEVICES", `${node} did not appear with ${p.size} bytes`, {
          hint: existsSync(node)
            ? `the kernel sees ${sysfsSizeBytes(node)} bytes`
            : "no device node: is /dev a devtmpfs?",
        });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    devices[p.number] = node;
  }
  return devices;
}

/**
 * Makes a block device for every partition, trying the strategies in order and falling
 * back when one fails. Each resource is taken through the ledger; `held` hears of it
 * at once so a rollback can release it even if a later step fails.
 */
export async function exposePartitions(
  ctx: Pick<NodeContext, "host" | "ledger" | "capabilities">,
  disk: DiskDevice,
  partitions: readonly PartitionExtent[],
  held: (seq: number) => void,
  /** How long to wait for the kernel's partition nodes. */
  waitMs = 2000,
): Promise<PartitionDevices> {
  const failures: string[] = [];
  for (const strategy of partitionDeviceStrategies(ctx, disk)) {
    const mark = ctx.ledger.entries().at(-1)?.seq ?? 0;
    try {
      const devices = await expose(ctx, strategy, disk, partitions, held, waitMs);
      ctx.host.debug(
        `partition devices of ${disk.device} by ${strategy}: ${Object.values(devices).join(" ")}`,
      );
      return { strategy, devices };
    } catch (error) {
      failures.push(`${strategy}: ${error instanceof Error ? error.message : String(error)}`);
      // Everything this attempt took, including a resource whose creation failed half-way.
      const taken = ctx.ledger.held().filter((e) => e.seq > mark);
      for (const entry of taken.reverse()) await ctx.ledger.release(entry.seq);
    }
  }
  throw new DibError(
    "DIB_PARTITION_DEVICES",
    `could not make block devices for the partitions of ${disk.device}`,
    {
      hint:
        failures.length > 0
          ? `tried ${failures.join("; ")}`
          : "no way to reach partitions on this host: the disk has no image file and the kernel cannot add partitions",
      details: { failures },
    },
  );
}

async function expose(
  ctx: Pick<NodeContext, "host" | "ledger">,
  strategy: PartitionDeviceStrategy,
  disk: DiskDevice,
  partitions: readonly PartitionExtent[],
  hold: (seq: number) => void,
  waitMs: number,
): Promise<Record<number, string>> {
  const file = disk.image ? realpathSync(disk.image) : disk.device;
  switch (strategy) {
    case "kernel": {
      const taken = await ctx.ledger.acquire(
        { kind: "partitions", device: disk.device, file },
        async () => {
          await ctx.host.run(["blockdev", "--rereadpt", disk.device]);
          return { device: disk.device };
        },
      );
      hold(taken.seq);
      return kernelNodesAppear(partitions, disk, waitMs);
    }
    case "partx": {
      // One partition at a time, and only the ones in the config: on a 4K-sector disk the
      // kernel refuses the 1 KiB node of an MBR's extended partition, failing `partx -a`.
      const taken = await ctx.ledger.acquire(
        { kind: "partitions", device: disk.device, file },
        async () => {
          for (const p of partitions) {
            await ctx.host.run(["partx", "--add", "--nr", String(p.number), disk.device]);
          }
          return { device: disk.device };
        },
      );
      hold(taken.seq);
      return kernelNodesAppear(partitions, disk, waitMs);
    }
    case "loop": {
      const devices: Record<number, string> = {};
      for (const p of partitions) {
        const taken = await ctx.ledger.attachLoop(file, {
          offset: p.offset,
          sizelimit: p.size,
          ...(disk.sectorSize !== 512 ? { sectorSize: disk.sectorSize } : {}),
        });
        hold(taken.seq);
        devices[p.number] = taken.detail.device;
      }
      return devices;
    }
  }
}
