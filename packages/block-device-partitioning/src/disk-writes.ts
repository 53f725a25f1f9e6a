import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import type { DiskWrite } from "./mbr-writer.js";

/**
 * Puts `writes` on a disk (an image file or the loop device in front of it) and flushes
 * them. Writing through the loop device keeps its page cache in step with what partx and
 * the kernel will read next.
 */
export function applyDiskWrites(path: string, writes: readonly DiskWrite[]): void {
  const fd = openSync(path, "r+");
  try {
    for (const w of writes) {
      let done = 0;
      while (done < w.data.length) {
        done += writeSync(fd, w.data, done, w.data.length - done, w.offset + done);
      }
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
