import { rename, rm, stat } from "node:fs/promises";
import { CHECKSUM_ALGORITHMS, checksumFileName } from "./checksum.js";

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** `YYYY.MM.DD-HH.MM.SS` in local time, as DIB stamps renamed images. */
export function imageTimestamp(date: Date): string {
  return `${date.getFullYear()}.${pad(date.getMonth() + 1)}.${pad(date.getDate())}-${pad(
    date.getHours(),
  )}.${pad(date.getMinutes())}.${pad(date.getSeconds())}`;
}

/**
 * Where an older output moves aside: `NAME.qcow2` → `NAME-2024.05.01-10.20.30.qcow2`, and
 * its `NAME.qcow2.md5` → `NAME-2024.05.01-10.20.30.qcow2.md5`.
 */
export function datedName(file: string, imageName: string, date: Date): string {
  if (!file.startsWith(`${imageName}.`)) return `${file}-${imageTimestamp(date)}`;
  return `${imageName}-${imageTimestamp(date)}${file.slice(imageName.length)}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface Renamed {
  from: string;
  to: string;
}

/**
 * Clears the way for a new `file`. Unless `overwrite`, an existing one and its checksum
 * files are renamed to carry the old file's modification time (when that image was made);
 * with `overwrite`, its checksum files are removed so none can describe the wrong image.
 * Paths are absolute; `imageName` is the absolute image name the file is named from.
 */
export async function moveOldImageAside(
  file: string,
  imageName: string,
  overwrite: boolean,
): Promise<Renamed[]> {
  if (!(await exists(file))) return [];
  const companions = CHECKSUM_ALGORITHMS.map((a) => checksumFileName(file, a));
  if (overwrite) {
    for (const c of companions) await rm(c, { force: true });
    return [];
  }
  const when = (await stat(file)).mtime;
  const renamed: Renamed[] = [];
  for (const from of [file, ...companions]) {
    if (!(await exists(from))) continue;
    const to = datedName(from, imageName, when);
    await rename(from, to);
    renamed.push({ from, to });
  }
  return renamed;
}
