import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** What a folder held at one moment: relative path → a signature of each file and link. */
export type DirSnapshot = Map<string, string>;

/**
 * Lists the files and links below `dir` (not below the folders in `skip`, given
 * relative to `dir`) with their type, size, mode and mtime: enough to see later which of
 * them a stage wrote.
 */
export function snapshotDir(dir: string, skip: readonly string[] = []): DirSnapshot {
  const out: DirSnapshot = new Map();
  const skipped = new Set(skip);
  const walk = (abs: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return;
    }
    for (const name of names) {
      const relPath = rel === "" ? name : `${rel}/${name}`;
      if (skipped.has(relPath)) continue;
      const path = join(abs, name);
      const s = lstatSync(path, { throwIfNoEntry: false });
      if (!s) continue;
      if (s.isDirectory()) walk(path, relPath);
      else out.set(relPath, `${s.mode}:${s.size}:${s.mtimeMs}:${s.ino}`);
    }
  };
  walk(dir, "");
  return out;
}

/** The files and links of `after` that are new or changed since `before`, sorted. */
export function changedSince(before: DirSnapshot, after: DirSnapshot): string[] {
  return [...after]
    .filter(([path, sig]) => before.get(path) !== sig)
    .map(([path]) => path)
    .sort();
}
