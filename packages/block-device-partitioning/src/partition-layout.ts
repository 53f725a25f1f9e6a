import { DibError } from "@dib/host";
import { planGpt } from "./gpt-plan.js";
import { planMbr } from "./mbr-plan.js";
import { formatGptType, formatMbrType } from "./partition-options.js";
import type { PartitioningConfig } from "./schema.js";

export interface PlannedPartition {
  name: string;
  /** The kernel's partition number: 1–4 primary, 5… logical (MBR); 1… (GPT). */
  number: number;
  /** First sector, in 512-byte sectors whatever the disk's sector size. */
  start: number;
  /** Last sector (inclusive), in 512-byte sectors. */
  end: number;
  /** MBR: `0x83`; GPT: `8300` (or a type GUID). */
  type: string;
  /** What the table records: `boot` (MBR only; DIB ignores it on GPT) and `primary` (MBR primaries). */
  flags: string[];
}

/** The partition table a `partitioning` entry makes on a disk of a given size. */
export interface PartitionLayout {
  /** The partitioning's name (`partitioning_<base>` when the config has none). */
  name: string;
  label: "mbr" | "gpt";
  /** The disk's sector size the table is written for. */
  sectorSize: number;
  partitions: PlannedPartition[];
  /** MBR with logical partitions: the extended partition that holds them (type 0x0f). */
  extended?: { number: number; start: number; end: number; type: string };
}

/** The name DIB's tree→graph conversion gives a partitioning without one. */
export function partitioningName(config: PartitioningConfig): string {
  return config.name ?? `partitioning_${config.base}`;
}

/**
 * Plans the partition table of `config` on a disk of `diskSizeBytes` with `sectorSize`
 * sectors, exactly as the `partitioning` level will write it (MBR) or sgdisk will place it
 * (GPT). Pure: `block-device layout --json` prints it, and create writes nothing else.
 */
export function planPartitionLayout(
  config: PartitioningConfig,
  diskSizeBytes: number,
  sectorSize = 512,
): PartitionLayout {
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw new DibError("DIB_BLOCK_DEVICE_CONFIG", `Unsupported sector size ${sectorSize}`, {
      hint: "block_size must be 512 or 4096",
    });
  }
  const per512 = sectorSize / 512;
  const toSectors512 = (start: number, length: number) => ({
    start: start * per512,
    end: (start + length) * per512 - 1,
  });
  const name = partitioningName(config);

  if (config.label === "mbr") {
    const plan = planMbr(config, diskSizeBytes, sectorSize);
    const layout: PartitionLayout = {
      name,
      label: "mbr",
      sectorSize,
      partitions: plan.partitions.map((p) => ({
        name: p.name,
        number: p.number,
        ...toSectors512(p.start, p.length),
        type: formatMbrType(p.type),
        flags: [...(p.boot ? ["boot"] : []), ...(p.logical ? [] : ["primary"])],
      })),
    };
    if (plan.extended) {
      layout.extended = {
        number: plan.extended.number,
        ...toSectors512(plan.extended.start, plan.extended.length),
        type: formatMbrType(0x0f),
      };
    }
    return layout;
  }

  const plan = planGpt(config, diskSizeBytes, sectorSize);
  return {
    name,
    label: "gpt",
    sectorSize,
    partitions: plan.partitions.map((p) => ({
      name: p.name,
      number: p.number,
      ...toSectors512(p.start, p.end - p.start + 1),
      type: formatGptType(p.type),
      flags: [],
    })),
  };
}
