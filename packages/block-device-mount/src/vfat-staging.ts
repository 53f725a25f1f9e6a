import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Host } from "@dib/host";

/** mtools refuses devices whose size is not a whole number of its idea of tracks. */
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1" };

/**
 * The argv that copies the whole tree below `dir` into the root of the FAT filesystem on
 * `device`, keeping names, directories, attributes and modification times.
 */
export function mcopyCommand(device: string, dir: string, entries: readonly string[]): string[] {
  return [
    "mcopy",
    "-i",
    device,
    "-s",
    "-p",
    "-m",
    "-Q",
    "-D",
    "o",
    ...entries.map((e) => join(dir, e)),
    "::/",
  ];
}

/**
 * Writes what hooks put in the staging directory into the FAT filesystem itself (the
 * kernel here cannot mount vfat, mtools writes it from user space).
 */
export async function writeStagingInto(host: Host, dir: string, device: string): Promise<void> {
  const entries = readdirSync(dir).sort();
  if (entries.length === 0) return;
  await host.run(mcopyCommand(device, dir, entries), {
    env: MTOOLS_ENV,
    hint: `copying ${dir} into the FAT filesystem on ${device}`,
  });
  // mtools wrote through the page cache of the partition device, which goes away next.
  await host.run(["sync"]);
}
