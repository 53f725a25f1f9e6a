import { DibError } from "@dib/host";
import type { PartitionConfig } from "./schema.js";

export type PartitionFlag = "boot" | "primary";

const KNOWN_FLAGS: ReadonlySet<string> = new Set(["boot", "primary"]);

/** The flags of a partition, checked the way DIB checks them. */
export function partitionFlags(
  partition: PartitionConfig,
  label: "mbr" | "gpt",
): Set<PartitionFlag> {
  const flags = new Set<PartitionFlag>();
  for (const flag of partition.flags ?? []) {
    if (!KNOWN_FLAGS.has(flag)) {
      throw new DibError("DIB_BLOCK_DEVICE_CONFIG", `Unknown flag: ${flag}`, {
        hint: `partition '${partition.name}': the flags are 'boot' and 'primary'`,
      });
    }
    if (flag === "primary" && label === "gpt") {
      throw new DibError(
        "DIB_BLOCK_DEVICE_CONFIG",
        "Primary flag not supported for GPT partitions",
        {
          hint: `partition '${partition.name}': every GPT partition is primary; drop the flag`,
        },
      );
    }
    flags.add(flag as PartitionFlag);
  }
  return flags;
}

/** The MBR type byte: the string is read as hex like DIB's `int(type, 16)` ('0x41', '83', 'EF'). */
export function mbrType(partition: PartitionConfig): number {
  const text = partition.type ?? "0x83";
  const match = /^\s*(?:0[xX])?([0-9a-fA-F]+)\s*$/.exec(text);
  const value = match?.[1] ? Number.parseInt(match[1], 16) : Number.NaN;
  if (!(value >= 1 && value <= 0xff)) {
    throw new DibError("DIB_BLOCK_DEVICE_CONFIG", `Invalid MBR partition type '${text}'`, {
      hint: `partition '${partition.name}': an MBR type is one hex byte from 01 to ff, e.g. '0x83' (Linux) or '0xef' (EFI)`,
    });
  }
  return value;
}

/** `0x83`-style text for an MBR type byte. */
export function formatMbrType(type: number): string {
  return `0x${type.toString(16).padStart(2, "0")}`;
}

const GPT_CODE = /^(?:0[xX])?([0-9a-fA-F]{4})$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The type exactly as sgdisk gets it (DIB passes the string through; default `8300`). */
export function gptTypeArgument(partition: PartitionConfig): string {
  const text = partition.type ?? "8300";
  if (!GPT_CODE.test(text) && !GUID.test(text)) {
    throw new DibError("DIB_BLOCK_DEVICE_CONFIG", `Invalid GPT partition type '${text}'`, {
      hint: `partition '${partition.name}': use an sgdisk type code such as '8300', 'EF00' or 'EF02', or a type GUID (sgdisk -L lists the codes)`,
    });
  }
  return text;
}

/** The GPT type normalised for display: a 4-digit upper-case code, or an upper-case GUID. */
export function formatGptType(typeArgument: string): string {
  const code = GPT_CODE.exec(typeArgument);
  return (code?.[1] ?? typeArgument).toUpperCase();
}
