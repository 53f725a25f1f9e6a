import { lstatSync, realpathSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { DibError, type Ledger, resolveInRoot } from "@dib/host";
import { IN_TARGET_DIR } from "./hook-dir.js";

const RMDIR_TIMEOUT_MS = 10_000;

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface InTargetMount {
  /** The mount point on the host (`<root>/tmp/in_target.d`). */
  path: string;
  release(): Promise<void>;
}

/**
 * Binds the merged hook tree read-only at /tmp/in_target.d inside `root`, through the
 * ledger. Refuses when the root's tmp leads out of the root (a symlink), so that a
 * broken image can never make us mount over a host directory.
 */
export async function mountHooksInTarget(
  root: string,
  hooksDir: string,
  ledger: Ledger,
): Promise<InTargetMount> {
  const realRoot = realpathSync(root);
  const tmp = join(realRoot, "tmp");
  if (lstatSync(tmp, { throwIfNoEntry: false })?.isSymbolicLink()) {
    throw new DibError(
      "DIB_CHROOT_TMP_SYMLINK",
      `${tmp} is a symlink; refusing to mount the hooks there`,
      {
        hint: "the image's /tmp must be a directory during the build",
      },
    );
  }
  // Made and resolved inside the root: a link at in_target.d cannot lead out of it.
  const path = resolveInRoot(realRoot, IN_TARGET_DIR, { create: true });
  const { seq } = await ledger.mount({
    source: hooksDir,
    target: path,
    bind: true,
    readOnly: true,
  });
  const release = async () => {
    await ledger.release(seq);
    const deadline = Date.now() + RMDIR_TIMEOUT_MS;
    for (;;) {
      try {
        rmdirSync(path);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        if (Date.now() > deadline) {
          throw new DibError("DIB_IN_TARGET_BUSY", `unable to cleanly remove ${path}`, {
            hint: `something still uses it: fuser -vm ${path}`,
            cause: error,
          });
        }
        await sleep(250);
      }
    }
  };
  return { path, release };
}
