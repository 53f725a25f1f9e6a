import { lstatSync, realpathSync, rmSync } from "node:fs";
import { relative, resolve } from "node:path";
import { DibError } from "@dib/errors";
import { isAtOrBelow, mountsBelow } from "./mountinfo.js";
import { resolveInRoot } from "./path-in-root.js";

export interface SafeRemoveOptions {
  /** The build directory: refuse anything that is not at or below it. */
  within?: string;
}

function outside(dir: string, within: string): DibError {
  return new DibError("DIB_UNSAFE_REMOVE", `refusing to remove ${dir}: it is outside ${within}`, {
    hint: "dib only deletes inside its own build directory",
  });
}

/**
 * Where `dir` really is, never outside `within`: its path below `within` is resolved as in
 * a chroot (resolveInRoot), so a symlink on the way cannot lead out, and a symlink at the
 * end is the thing removed, not what it points at.
 */
function containedTarget(dir: string, within: string): string {
  const realWithin = realpathSync(within);
  const path = resolve(dir);
  const base = isAtOrBelow(path, resolve(within))
    ? resolve(within)
    : isAtOrBelow(path, realWithin)
      ? realWithin
      : undefined;
  if (base === undefined) throw outside(dir, realWithin);
  return resolveInRoot(realWithin, relative(base, path), { followFinal: false });
}

/**
 * Removes a directory tree, but refuses — deleting nothing — when anything is mounted at
 * or below it, or when it lies outside `within`. Symlinks are removed, never followed.
 */
export function safeRemove(dir: string, options: SafeRemoveOptions = {}): void {
  try {
    lstatSync(dir);
  } catch {
    return; // nothing to remove
  }
  const target =
    options.within === undefined ? realpathSync(dir) : containedTarget(dir, options.within);
  if (target === "/") {
    throw new DibError("DIB_UNSAFE_REMOVE", "refusing to remove /");
  }
  const mounted = mountsBelow(target);
  if (mounted.length > 0) {
    throw new DibError(
      "DIB_MOUNTED_BELOW",
      `refusing to remove ${dir}: ${mounted.length} mount(s) below it (${mounted
        .slice(0, 3)
        .map((m) => m.target)
        .join(", ")}${mounted.length > 3 ? ", …" : ""})`,
      { hint: `unmount them first, or run: dib-cli cleanup <build-dir>` },
    );
  }
  rmSync(options.within === undefined ? dir : target, { recursive: true, force: true });
}
