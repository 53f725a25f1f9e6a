import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { DibError } from "@dib/host";
import { formatBytes } from "./format-bytes.js";

const ENOSPC_TEXT = /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i;

/** Free bytes for an unprivileged writer on the file system holding `path`, or undefined. */
export function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * True when `error` says the file system ran full: an ENOSPC (or quota) errno from our own
 * writes, or a command (cp, qemu-img, tar, mksquashfs) whose output says so.
 */
export function isNoSpace(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") return true;
    if (e instanceof DibError) {
      const tail = e.details.stderrTail;
      if (typeof tail === "string" && ENOSPC_TEXT.test(tail)) return true;
      if (e.hint && ENOSPC_TEXT.test(e.hint)) return true;
    }
    if (e instanceof Error && ENOSPC_TEXT.test(e.message)) return true;
  }
  return false;
}

/**
 * The error for an output that did not fit: names ENOSPC, the file being written and the
 * file system's free space now (after the partial file was removed), keeping the original
 * as the cause. Anything else is passed through unchanged.
 */
export function outputSpaceError(error: unknown, file: string): unknown {
  if (!isNoSpace(error) || (error instanceof DibError && error.code === "DIB_OUTPUT_NO_SPACE")) {
    return error;
  }
  const dir = dirname(file);
  return new DibError(
    "DIB_OUTPUT_NO_SPACE",
    `no space left on device (ENOSPC) while writing ${file}: the file system of ${dir} is full`,
    {
      hint: `free space there or write the image elsewhere with -o DIR/NAME; the partial file was removed${
        freeBytes(dir) !== undefined ? ` (${formatBytes(freeBytes(dir) as number)} free now)` : ""
      }`,
      file,
      cause: error,
      details: { errno: "ENOSPC", directory: dir },
    },
  );
}
