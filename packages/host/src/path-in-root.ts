import { lstatSync, mkdirSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { DibError } from "@dib/errors";

/** Symlinks followed before giving up, as the kernel's ELOOP limit. */
const MAX_SYMLINKS = 40;

export interface ResolveInRootOptions {
  /** Follow a symlink in the last component too (default true; false for removals). */
  followFinal?: boolean;
  /** Make every missing directory on the way, inside the root (`mkdir -p` in a chroot). */
  create?: boolean;
}

function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * Where `path` is on the host when `root` is the `/` of a tree: every symlink on the way is
 * read and resolved as a process chrooted into `root` would resolve it (an absolute target
 * starts again at `root`, `..` never climbs above `root`), so nothing a tree contains can
 * send a mount, a copy or a removal outside it. `path` may be absolute or relative; both
 * are taken from the root. Missing components are taken literally (or made, with
 * `create`). The result has no symlinks below the root's real path.
 */
export function resolveInRoot(
  root: string,
  path: string,
  options: ResolveInRootOptions = {},
): string {
  const followFinal = options.followFinal ?? true;
  const realRoot = realpathSync(root);
  const done: string[] = [];
  const todo = components(path);
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift() as string;
    if (name === "..") {
      done.pop(); // at the root, `..` is the root
      continue;
    }
    const here = join(realRoot, ...done, name);
    const stats = lstatSync(here, { throwIfNoEntry: false });
    if (stats?.isSymbolicLink() && (todo.length > 0 || followFinal)) {
      if (++links > MAX_SYMLINKS) {
        throw new DibError(
          "DIB_PATH_SYMLINK_LOOP",
          `too many levels of symbolic links resolving ${path} in ${realRoot}`,
          {
            hint: `a symlink loop in the tree: look at ${here} (readlink)`,
            details: { root: realRoot, path },
          },
        );
      }
      const target = readlinkSync(here);
      if (target.startsWith("/")) done.length = 0;
      todo.unshift(...components(target));
      continue;
    }
    if (stats === undefined && options.create) {
      mkdirSync(here, { mode: 0o755 });
    } else if (
      stats !== undefined &&
      !stats.isDirectory() &&
      (todo.length > 0 || options.create) &&
      !stats.isSymbolicLink()
    ) {
      throw new DibError("DIB_PATH_NOT_DIRECTORY", `${here} is not a directory`, {
        hint: `${path} goes through it inside ${realRoot}`,
        details: { root: realRoot, path },
      });
    }
    done.push(name);
  }
  return join(realRoot, ...done);
}
