import { mkdirSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { type Host, heldInUndoOrder, Ledger, safeRemove } from "@dib/host";
import { decideTmpfs } from "./tmpfs-policy.js";

/**
 * The directories of one build. `dir` holds the ledger and nothing else of ours, so the
 * ledger stays readable whatever is mounted below; the work happens in `root` (DIB's
 * TMP_BUILD_DIR), a tmpfs when there is RAM for it.
 */
export interface Workspace {
  /** `<TMP_DIR>/dib_build.XXXXXX`: what `dib-cli cleanup` takes. */
  dir: string;
  /** TMP_BUILD_DIR. */
  root: string;
  /** TMP_HOOKS_PATH: the merged hooks tree. */
  hooksDir: string;
  /** TMP_MOUNT_PATH: the root tree while it is built, then the mounted image. */
  mountDir: string;
  /** Where the root tree waits while the image is created and mounted. */
  builtDir: string;
  /** TMP_IMAGE_DIR: the raw image file. */
  imageDir: string;
  /** Programs outside hooks find first on PATH (the dib-cli wrapper). */
  binDir: string;
  ledger: Ledger;
  tmpfs: boolean;
  /** Ledger records of the workspace itself: the guard over `dir` and the tmpfs. */
  ownSeqs: number[];
}

export interface OpenWorkspaceOptions {
  host: Host;
  tmpDir: string;
  noTmpfs: boolean;
  minTmpfsGb: number;
  warn: (message: string) => void;
  /** /proc/meminfo text; read when not given. */
  meminfo?: string | undefined;
}

function readMeminfo(): string | undefined {
  try {
    return readFileSync("/proc/meminfo", "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Makes the build directory: the ledger first, then a guard record over the whole
 * directory (so anything a hook mounts below it is unmounted on undo), then the tmpfs,
 * recorded like any other mount.
 */
export async function openWorkspace(options: OpenWorkspaceOptions): Promise<Workspace> {
  const { host } = options;
  mkdirSync(options.tmpDir, { recursive: true });
  const dir = realpathSync(mkdtempSync(join(options.tmpDir, "dib_build.")));
  const ledger = Ledger.open(dir, host);
  try {
    return await prepare(dir, ledger, options);
  } catch (error) {
    // Nothing of a half-made workspace may stay behind.
    await ledger.undo();
    safeRemove(dir);
    throw error;
  }
}

async function prepare(
  dir: string,
  ledger: Ledger,
  options: OpenWorkspaceOptions,
): Promise<Workspace> {
  const ownSeqs: number[] = [];
  ownSeqs.push((await ledger.acquire({ kind: "mount", target: dir }, async () => ({}))).seq);
  const root = join(dir, "build");
  mkdirSync(root);
  const decision = decideTmpfs({
    noTmpfs: options.noTmpfs,
    minTmpfsGb: options.minTmpfsGb,
    meminfo: options.meminfo ?? readMeminfo(),
    tmpDir: options.tmpDir,
  });
  if (!decision.use && decision.warning) options.warn(decision.warning);
  if (decision.use) {
    ownSeqs.push(
      (
        await ledger.mount({
          source: "tmpfs",
          target: root,
          fstype: "tmpfs",
          options: ["mode=0755"],
        })
      ).seq,
    );
  }
  const workspace: Workspace = {
    dir,
    root,
    hooksDir: join(root, "hooks"),
    mountDir: join(root, "mnt"),
    builtDir: join(root, "built"),
    imageDir: join(root, "image"),
    binDir: join(root, "bin"),
    ledger,
    tmpfs: decision.use,
    ownSeqs,
  };
  for (const d of [workspace.hooksDir, workspace.mountDir, workspace.imageDir, workspace.binDir]) {
    mkdirSync(d, { recursive: true });
  }
  return workspace;
}

/** Releases everything the build still holds, newest first, then deletes the directory. */
export async function closeWorkspace(workspace: Workspace): Promise<void> {
  await workspace.ledger.undo();
  safeRemove(workspace.dir);
}

/**
 * After a failure with keep-on-failure: releases what the build acquired (the image's
 * loop devices and mounts, the chroot's mounts) but keeps the workspace's own tmpfs, so
 * its content can be looked at. `dib-cli cleanup <dir>` releases the rest.
 */
export async function releaseAllButWorkspace(workspace: Workspace): Promise<void> {
  const keep = new Set(workspace.ownSeqs);
  for (const entry of heldInUndoOrder(workspace.ledger.entries())) {
    if (!keep.has(entry.seq)) await workspace.ledger.release(entry.seq);
  }
}
