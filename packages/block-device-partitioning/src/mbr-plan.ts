import { parseAbsoluteSize, parseRelativeSize } from "@dib/block-device";
import { DibError } from "@dib/host";
import { mbrType, partitionFlags } from "./partition-options.js";
import type { PartitioningConfig } from "./schema.js";

/** One 16-byte partition entry. Sectors are in the disk's own sector size. */
export interface MbrEntry {
  boot: boolean;
  type: number;
  /** LBA of the first sector: absolute in the MBR, relative to its EBR (data) or to the extended partition (link) in an EBR. */
  start: number;
  length: number;
}

/** An extended boot record: the logical partition behind it and the link to the next EBR. */
export interface Ebr {
  /** Absolute sector of this EBR. */
  sector: number;
  data: MbrEntry;
  next?: MbrEntry;
}

export interface MbrPartition {
  name: string;
  number: number;
  logical: boolean;
  boot: boolean;
  type: number;
  /** Absolute first sector and length, in the disk's sector size. */
  start: number;
  length: number;
}

/** Everything the MBR writer needs, in sectors of `sectorSize`. */
export interface MbrPlan {
  sectorSize: number;
  diskSectors: number;
  /** The four MBR slots in order (primaries, then the extended container if any). */
  slots: MbrEntry[];
  ebrs: Ebr[];
  partitions: MbrPartition[];
  /** The extended container, when there are logical partitions. */
  extended?: { number: number; start: number; length: number };
}

const MiB = 1024 * 1024;
const EXTENDED_LBA = 0x0f;
const EXTENDED_LINK = 0x05;
const MAX_LBA = 0xffffffff;

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
 * DIB's MBR layout: partitions in config order, each start aligned, `N%` taken from the
 * space still free minus one alignment unit (so a 100% primary leaves the last unit unused,
 * as DIB does), logical partitions chained through EBRs one alignment unit before their data.
 * Unlike DIB, sectors are the disk's real sector size (4096 on a 4K loop device).
 */
export function planMbr(config: PartitioningConfig, diskSize: number, sectorSize = 512): MbrPlan {
  const alignBytes = config.align === undefined ? MiB : parseAbsoluteSize(config.align);
  if (alignBytes <= 0 || alignBytes % sectorSize !== 0) {
    throw new DibError(
      "DIB_BLOCK_DEVICE_CONFIG",
      `align ${config.align} is not a multiple of the ${sectorSize}-byte sector size`,
      {
        hint: "use a power of two of at least the sector size, e.g. 1MiB",
      },
    );
  }
  const alignSectors = alignBytes / sectorSize;
  const align = (sector: number) => Math.ceil(sector / alignSectors) * alignSectors;
  const diskSectors = Math.floor(diskSize / sectorSize);

  checkMbrOrder(config);
  const plan: MbrPlan = { sectorSize, diskSectors, slots: [], ebrs: [], partitions: [] };
  let nextFree = align(1);
  let extendedStart: number | undefined;

  for (const partition of config.partitions) {
    const flags = partitionFlags(partition, "mbr");
    const boot = flags.has("boot");
    const type = mbrType(partition);
    const free = diskSize - (nextFree + align(1)) * sectorSize;
    const length = Math.floor(parseRelativeSize(partition.size, free).bytes / sectorSize);
    if (length < 1) throw tooSmall(partition.name);

    if (flags.has("primary")) {
      const start = align(nextFree);
      if (start + length > diskSectors) throw tooSmall(partition.name);
      plan.slots.push({ boot, type, start, length });
      plan.partitions.push({
        name: partition.name,
        number: plan.slots.length,
        logical: false,
        boot,
        type,
        start,
        length,
      });
      nextFree = align(start + length);
      continue;
    }

    if (extendedStart === undefined) {
      extendedStart = nextFree;
      const extended = { start: nextFree, length: diskSectors - nextFree };
      plan.slots.push({ boot: false, type: EXTENDED_LBA, ...extended });
      plan.extended = { number: plan.slots.length, ...extended };
    }
    const ebrSector = nextFree;
    const start = align(ebrSector + 1);
    if (start + length > diskSectors) throw tooSmall(partition.name);
    const end = align(start + length);
    const previous = plan.ebrs.at(-1);
    if (previous) {
      previous.next = {
        boot: false,
        type: EXTENDED_LINK,
        start: ebrSector - extendedStart,
        // DIB links the whole aligned unit; never past the end of the disk.
        length: Math.min(end, diskSectors) - ebrSector,
      };
    }
    plan.ebrs.push({ sector: ebrSector, data: { boot, type, start: start - ebrSector, length } });
    plan.partitions.push({
      name: partition.name,
      number: 4 + plan.ebrs.length,
      logical: true,
      boot,
      type,
      start,
      length,
    });
    nextFree = end;
  }

  const highest = Math.max(0, ...plan.slots.map((s) => s.start + s.length - 1));
  if (highest > MAX_LBA) {
    throw new DibError(
      "DIB_BLOCK_DEVICE_CONFIG",
      "An MBR partition table cannot address a disk this large",
      {
        hint: `MBR reaches ${MAX_LBA + 1} sectors of ${sectorSize} bytes; use 'label: gpt' or a smaller image`,
      },
    );
  }
  return plan;
}

/** DIB's rules on the order and number of primary and logical partitions. */
export function checkMbrOrder(config: PartitioningConfig): void {
  let primaries = 0;
  let logicals = 0;
  for (const partition of config.partitions) {
    if (!partitionFlags(partition, "mbr").has("primary")) {
      logicals += 1;
      if (logicals === 1 && primaries >= 4) {
        throw new DibError(
          "DIB_BLOCK_DEVICE_CONFIG",
          "An MBR with logical partitions holds at most 3 primary partitions",
          {
            hint: "the extended partition that holds the logical ones needs the fourth slot",
          },
        );
      }
      continue;
    }
    if (logicals > 0) {
      throw new DibError("DIB_BLOCK_DEVICE_CONFIG", "All primary partitions must be given first", {
        hint: `partition '${partition.name}' is primary but comes after a logical one: move the primary partitions to the top of the list`,
      });
    }
    primaries += 1;
    if (primaries > 4) {
      throw new DibError("DIB_BLOCK_DEVICE_CONFIG", "An MBR holds at most 4 primary partitions", {
        hint: `partition '${partition.name}': drop 'primary' from it (and the ones after it) to make logical partitions`,
      });
    }
  }
}
