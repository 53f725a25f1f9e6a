import { relative } from "node:path";
import { isAtOrBelow, type MountEntry } from "@dib/host";

/** Something below the root tree that no output may carry. */
export interface TreeExclusion {
  /** Relative to the tree, without a leading `./` or `/`: `proc`, `dev/pts`. */
  path: string;
  /** Leave the directory itself in the output (a mount point), drop what is in it. */
  contentsOnly: boolean;
}

/** Kernel filesystems every image keeps as empty mount points. */
const ALWAYS_EMPTIED = ["proc", "sys"];

export interface TreeExclusionOptions {
  /**
   * Mount points of the image's own filesystems, relative to the tree (`/boot`,
   * `/boot/efi`): their content belongs in the outputs. Any other mount below the tree is
   * the host's (a /dev or /proc bind left by a hook) and is emptied.
   */
  keep?: readonly string[];
  /** Whether a mount point is a directory (a bind-mounted file is dropped whole). */
  isDirectory?: (absolutePath: string) => boolean;
}

function normalise(path: string): string {
  return path.replace(/^\/+|\/+$/g, "");
}

/**
 * What the tree outputs leave out: the contents of proc and sys, and of every mount point
 * strictly below `tree` that is not one of the image's own filesystems. Pure: the caller
 * reads the mount table (`readMountinfo()` from @dib/host) and resolves `tree` first.
 */
export function treeExclusions(
  tree: string,
  mounts: readonly MountEntry[],
  options: TreeExclusionOptions = {},
): TreeExclusion[] {
  const keep = new Set((options.keep ?? []).map(normalise));
  const isDirectory = options.isDirectory ?? (() => true);
  const out = new Map<string, TreeExclusion>();
  for (const path of ALWAYS_EMPTIED) out.set(path, { path, contentsOnly: true });
  for (const mount of mounts) {
    if (mount.target === tree || !isAtOrBelow(mount.target, tree)) continue;
    const path = normalise(relative(tree, mount.target));
    if (path === "" || keep.has(path) || out.has(path)) continue;
    out.set(path, { path, contentsOnly: isDirectory(mount.target) });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Escapes the characters fnmatch-style patterns (tar, mksquashfs -wildcards) treat specially. */
export function escapeWildcards(path: string): string {
  return path.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

/** GNU tar `--exclude` options for members named `./path`. */
export function tarExcludeOptions(exclusions: readonly TreeExclusion[]): string[] {
  return exclusions.map(
    (e) => `--exclude=./${escapeWildcards(e.path)}${e.contentsOnly ? "/*" : ""}`,
  );
}

/** mksquashfs `-e` arguments (with `-wildcards`), relative to the source directory. */
export function squashfsExcludeArguments(exclusions: readonly TreeExclusion[]): string[] {
  return exclusions.flatMap((e) => [
    "-e",
    `${escapeWildcards(e.path)}${e.contentsOnly ? "/*" : ""}`,
  ]);
}
