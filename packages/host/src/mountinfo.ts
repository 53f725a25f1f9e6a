import { readFileSync } from "node:fs";
import { sep } from "node:path";

export interface MountEntry {
  id: number;
  parentId: number;
  /** The mount point, with the kernel's octal escapes decoded. */
  target: string;
  root: string;
  fstype: string;
  source: string;
  options: string;
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

/** Parses the text of /proc/self/mountinfo. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [left = "", right = ""] = line.split(" - ");
    const f = left.split(" ");
    const r = right.split(" ");
    entries.push({
      id: Number(f[0]),
      parentId: Number(f[1]),
      root: unescapeMountField(f[3] ?? ""),
      target: unescapeMountField(f[4] ?? ""),
      options: f[5] ?? "",
      fstype: r[0] ?? "",
      source: unescapeMountField(r[1] ?? ""),
    });
  }
  return entries;
}

export function readMountinfo(): MountEntry[] {
  return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

/** True when `path` is `dir` itself or lies below it (plain path arithmetic, no I/O). */
export function isAtOrBelow(path: string, dir: string): boolean {
  const d = dir.endsWith(sep) && dir.length > 1 ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(d === "/" ? "/" : d + sep);
}

/** Mounts at or below `dir`, deepest first (the order to unmount them in). */
export function mountsBelow(dir: string, entries: MountEntry[] = readMountinfo()): MountEntry[] {
  return entries
    .filter((m) => isAtOrBelow(m.target, dir))
    .sort((a, b) => b.target.length - a.target.length || b.id - a.id);
}

export function isMountPoint(path: string, entries: MountEntry[] = readMountinfo()): boolean {
  return entries.some((m) => m.target === path);
}
