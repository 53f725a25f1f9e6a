import { lstatSync, realpathSync, rmSync } from "node:fs";
import { DibError } from "./dib-error.js";
import { isAtOrBelow, mountsBelow } from "./mountinfo.js";

export interface SafeRemoveOptions {
  /** The build directory: refuse anything that is not at or below it. */
  within?: string;
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
  const real = realpathSync(dir);
  if (options.within !== undefined) {
    const within = realpathSync(options.within);
    if (!isAtOrBelow(real, within)) {
      throw new DibError(
        "DIB_UNSAFE_REMOVE",
        `refusing to remove ${dir}: it is outside ${within}`,
        {
          hint: "dib only deletes inside its own build directory",
        },
      );
    }
  }
  if (real === "/") {
    throw new DibError("DIB_UNSAFE_REMOVE", "refusing to remove /");
  }
  const mounted = mountsBelow(real);
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
  rmSync(dir, { recursive: true, force: true });
}
