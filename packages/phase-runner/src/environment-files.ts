import type { HookDirEntry, SkippedEntry } from "./hook-dir-entry.js";
import { compareBytes } from "./sort-n.js";

/** Names of environment.d files that are sourced (dots allowed, unlike hooks). */
export const ENVIRONMENT_FILE_NAME = /^[0-9A-Za-z_.-]+$/;

export interface EnvironmentFilesPlan {
  /** File names in the order they are sourced. */
  source: string[];
  skipped: SkippedEntry[];
}

/**
 * Which environment.d files are sourced, and in which order: regular files (or symlinks
 * to them) with a conforming name, executable or not.
 *
 * The order is plain byte order of the names, so `100-x` comes before `20-y`. DIB sorts
 * the files' full paths with `sort -n`; a path starts with `/`, never a digit, so every
 * key is numerically zero and the tie-break — bytes — decides. We keep that order: elements
 * number their environment files for it.
 */
export function planEnvironmentFiles(entries: readonly HookDirEntry[]): EnvironmentFilesPlan {
  const source: string[] = [];
  const skipped: SkippedEntry[] = [];
  for (const entry of entries) {
    const { name } = entry;
    if (entry.kind === "directory") {
      skipped.push({ name, reason: "directory", message: `${name} is a directory`, warn: false });
    } else if (entry.kind !== "file") {
      skipped.push({
        name,
        reason: "not-a-file",
        message: `environment file ${name} is not a regular file; not sourced`,
        warn: true,
      });
    } else if (!ENVIRONMENT_FILE_NAME.test(name)) {
      skipped.push({
        name,
        reason: "bad-name",
        message: `environment file ${name} is not sourced: names may only contain letters, digits, '.', '-' and '_'`,
        warn: true,
      });
    } else {
      source.push(name);
    }
  }
  source.sort(compareBytes);
  skipped.sort((a, b) => compareBytes(a.name, b.name));
  return { source, skipped };
}
