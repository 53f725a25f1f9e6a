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
