import type { Digests } from "./checksum.js";
import type { Renamed } from "./old-image.js";
import type { OutputType } from "./output-types.js";
import type { OutputStep } from "./plan.js";

/** One output a writeOutputs call produced. */
export interface OutputResult {
  type: OutputType;
  /** How it was made: `qemu-img`, `tar`, `docker-archive`, `docker-import`, … */
  via: OutputStep["via"];
  /** The file as named from the image name (`out/image.qcow2`); absent for an engine import. */
  file?: string;
  /** The same file, absolute. */
  path?: string;
  /** docker into an engine: the reference, and the id the engine printed. */
  image?: string;
  imageId?: string;
  /** Apparent size of the file in bytes (0 for an engine import). */
  bytes: number;
  /** Hex digests, as written to the checksum files. */
  checksums: Digests;
  /** The checksum files written beside the output (absolute). */
  checksumFiles: string[];
  /** Older outputs moved aside to make room (OVERWRITE_OLD_IMAGE unset). */
  renamedOld: Renamed[];
  durationMs: number;
}

function humanBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** One line per output, for the CLI's closing summary. */
export function formatOutputSummary(results: readonly OutputResult[]): string[] {
  return results.map((r) => {
    const what = r.file ?? `docker image ${r.image}`;
    const size = r.file ? `  ${humanBytes(r.bytes)}` : "";
    const sums =
      Object.keys(r.checksums).length > 0 ? `  (${Object.keys(r.checksums).join(", ")})` : "";
    return `${r.type.padEnd(8)} ${what}${size}${sums}  ${(r.durationMs / 1000).toFixed(1)} s`;
  });
}
