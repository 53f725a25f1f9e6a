import type { HookDirEntry, SkippedEntry } from "./hook-dir-entry.js";
import { compareSortN } from "./sort-n.js";

/** Names run-parts runs (DIB's default RUN_PARTS_REGEX): no dots, so `10-foo.sh` is not run. */
export const RUN_PARTS_NAME = /^[0-9A-Za-z_-]+$/;

export interface RunPartsPlan {
  /** Script names in the order they run. */
  run: string[];
  skipped: SkippedEntry[];
}

/**
 * Which entries of a phase directory run, and in which order: executable regular files
 * (or symlinks to them) whose names match RUN_PARTS_NAME, in `sort -n` order.
 * Subdirectories are never descended. Pure: the entries come from readHookDir().
 */
export function planRunParts(entries: readonly HookDirEntry[]): RunPartsPlan {
  const run: string[] = [];
  const skipped: SkippedEntry[] = [];
  for (const entry of entries) {
    const why = whyNotRun(entry);
    if (why) skipped.push(why);
    else run.push(entry.name);
  }
  run.sort(compareSortN);
  skipped.sort((a, b) => compareSortN(a.name, b.name));
  return { run, skipped };
}

function whyNotRun(entry: HookDirEntry): SkippedEntry | undefined {
  const { name } = entry;
  if (entry.kind === "directory") {
    return {
      name,
      reason: "directory",
      message: `${name} is a directory (not descended)`,
      warn: false,
    };
  }
  if (entry.kind !== "file") {
    const what = entry.kind === "dangling" ? "a symlink to nothing" : "not a regular file";
    return { name, reason: "not-a-file", message: `${name} is ${what}; not run`, warn: true };
  }
  const goodName = RUN_PARTS_NAME.test(name);
  if (!entry.executable) {
    const also = goodName ? "" : " (and its name would be skipped too)";
    return {
      name,
      reason: "not-executable",
      message: `${name} is not executable; not run${also}`,
      warn: true,
    };
  }
  if (!goodName) {
    return {
      name,
      reason: "bad-name",
      message: `${name} is not run: hook names may only contain letters, digits, '-' and '_' (rename it without the extension)`,
      warn: true,
    };
  }
  return undefined;
}
