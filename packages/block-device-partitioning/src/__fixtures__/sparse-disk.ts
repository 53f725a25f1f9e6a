import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A sparse file of `size` bytes in a fresh temporary directory. */
export function sparseDisk(size: number): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "dib-part-"));
  const path = join(dir, "disk.raw");
  closeSync(openSync(path, "w"));
  truncateSync(path, size);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The table as util-linux reads it: `NR START END TYPE FLAGS SCHEME` rows, as in the fixtures. */
export function partxRows(path: string, sectorSize = 512): string[] {
  const args = ["--raw", "-g", "-o", "NR,START,END,TYPE,FLAGS,SCHEME"];
  if (sectorSize !== 512) args.push("-S", String(sectorSize));
  const out = execFileSync("partx", [...args, path], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return out.split("\n").filter((l) => l !== "");
}

/** `length` bytes of a file from `offset`. */
export function bytesAt(path: string, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer;
}
