import { chmod, copyFile, mkdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { DibError } from "@dib/errors";
import { compareNames } from "./compare-names.js";
import { HOOK_PHASES } from "./element.js";
import {
  type ElementWarning,
  environmentFileWarning,
  hookScriptWarning,
} from "./hook-script-rules.js";
import { listFollowingLinks } from "./read-element.js";

/** One file or folder of an element, as it will land in the hooks tree. */
export interface ElementTreeEntry {
  /** Relative to the element folder and to the hooks folder, `/`-separated. */
  path: string;
  kind: "file" | "dir";
  /** Absolute source path (a symlink is followed when copied). */
  from: string;
  mode: number;
}

/** The files of one element that go into the hooks tree. */
export interface ElementTree {
  element: string;
  dir: string;
  entries: ElementTreeEntry[];
  warnings: ElementWarning[];
}

export interface HookCopy {
  from: string;
  /** Relative to the hooks folder. */
  to: string;
  element: string;
  mode: number;
}

/** What building the hooks folder will do: plain data, printable and testable. */
export interface HookTreePlan {
  /** Folders to create, parents first. */
  dirs: string[];
  copies: HookCopy[];
  /** Files that a later element replaced (top-level files such as README.rst, and files deeper than a hook). */
  overwritten: { to: string; element: string; by: string }[];
  warnings: ElementWarning[];
}

/** Top-level folders that never go into the hooks tree. */
const SKIPPED_DIRS: ReadonlySet<string> = new Set(["tests", "__pycache__", "node_modules"]);
const PHASES: ReadonlySet<string> = new Set(HOOK_PHASES);

/**
 * Lists what an element contributes to the hooks tree: every top-level file (but `*.pyc`)
 * and every folder (but tests/, __pycache__/, node_modules/) with all it holds, symlinks
 * followed. Hidden top-level entries (.git, .npmignore) are left out. Also returns the
 * hook scripts dib-run-parts would skip.
 */
export async function readElementTree(element: {
  name: string;
  dir: string;
}): Promise<ElementTree> {
  const entries: ElementTreeEntry[] = [];
  const warnings: ElementWarning[] = [];
  const walk = async (dir: string, prefix: string, ancestors: ReadonlySet<string>) => {
    for (const entry of await listFollowingLinks(dir)) {
      const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.stats === undefined) {
        warnings.push({
          code: "DIB_DANGLING_SYMLINK",
          element: element.name,
          file: entry.path,
          message: `${entry.path} is a symlink to nothing; it is left out of the hooks tree`,
        });
        continue;
      }
      if (entry.name === "__pycache__" || entry.name.endsWith(".pyc")) continue;
      if (prefix === "" && (entry.name.startsWith(".") || SKIPPED_DIRS.has(entry.name))) continue;
      if (entry.stats.isDirectory()) {
        const real = await realpath(entry.path);
        if (ancestors.has(real)) continue; // a symlink loop
        entries.push({ path, kind: "dir", from: entry.path, mode: entry.stats.mode });
        await walk(entry.path, path, new Set([...ancestors, real]));
      } else if (entry.stats.isFile()) {
        entries.push({ path, kind: "file", from: entry.path, mode: entry.stats.mode });
        const warning = PHASES.has(prefix)
          ? hookScriptWarning(element.name, prefix, entry.name, entry.path, entry.stats.mode)
          : prefix === "environment.d"
            ? environmentFileWarning(element.name, entry.name, entry.path)
            : undefined;
        if (warning) warnings.push(warning);
      }
    }
  };
  await walk(element.dir, "", new Set([await realpath(element.dir)]));
  return { element: element.name, dir: element.dir, entries, warnings };
}

/**
 * Merges the elements' trees, in the order given, into one hooks tree (DIB's
 * generate_hooks). A file directly inside a top-level folder (a hook script, an
 * environment.d file, a bin/ tool) may come from one element only: a second one is
 * DIB's "duplicated hook" error. Top-level files and files deeper down are replaced by
 * later elements; folders merge.
 */
export function planHookTree(trees: readonly ElementTree[]): HookTreePlan {
  const claims = new Map<
    string,
    { kind: "file" | "dir"; element: string; from: string; mode: number }
  >();
  const overwritten: HookTreePlan["overwritten"] = [];
  for (const tree of trees) {
    for (const entry of tree.entries) {
      const existing = claims.get(entry.path);
      const depth = entry.path.split("/").length;
      const claim = { kind: entry.kind, element: tree.element, from: entry.from, mode: entry.mode };
      if (!existing) {
        claims.set(entry.path, claim);
        continue;
      }
      if (existing.kind === "dir" && entry.kind === "dir") continue;
      if (existing.kind === "file" && entry.kind === "file" && depth !== 2) {
        overwritten.push({ to: entry.path, element: existing.element, by: tree.element });
        claims.set(entry.path, claim);
        continue;
      }
      throw new DibError(
        "DIB_DUPLICATE_HOOK",
        `There is a duplicated hook in your elements: ${tree.element}/${entry.path}`,
        {
          file: entry.from,
          hint: `'${existing.element}' has ${entry.path} too (${existing.from}); names must be unique in each hook folder across all elements of a build: rename one of them`,
          details: { path: entry.path, elements: [existing.element, tree.element] },
        },
      );
    }
  }
  const sorted = [...claims].sort(([a], [b]) => compareNames(a, b));
  return {
    dirs: sorted.filter(([, c]) => c.kind === "dir").map(([path]) => path),
    copies: sorted
      .filter(([, c]) => c.kind === "file")
      .map(([to, c]) => ({ from: c.from, to, element: c.element, mode: c.mode })),
    overwritten,
    warnings: trees.flatMap((t) => t.warnings),
  };
}

/** Reads the elements' trees and plans the hooks folder. */
export async function planHookTreeFor(
  elements: readonly { name: string; dir: string }[],
): Promise<HookTreePlan> {
  return planHookTree(await Promise.all(elements.map(readElementTree)));
}

/** Carries out a plan: creates the folders and copies the files (contents followed through symlinks, modes kept). */
export async function applyHookTree(plan: HookTreePlan, hooksDir: string): Promise<void> {
  await mkdir(hooksDir, { recursive: true });
  for (const dir of plan.dirs) await mkdir(join(hooksDir, dir), { recursive: true });
  for (const copy of plan.copies) {
    const target = join(hooksDir, copy.to);
    await copyFile(copy.from, target);
    await chmod(target, copy.mode & 0o7777);
  }
}
