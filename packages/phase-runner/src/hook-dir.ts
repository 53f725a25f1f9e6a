import { lstatSync, readdirSync, readlinkSync, type Stats, statSync } from "node:fs";
import { join, posix } from "node:path";
import { DibError } from "@dib/host";
import { type EnvironmentFilesPlan, planEnvironmentFiles } from "./environment-files.js";
import type { HookDirEntry, SkippedEntry } from "./hook-dir-entry.js";
import { planRunParts } from "./run-parts-plan.js";

/** Where the merged hook tree appears inside a chroot (read-only). */
export const IN_TARGET_DIR = "/tmp/in_target.d";

const MAX_SYMLINK_HOPS = 40;

export interface ReadHookDirOptions {
  /**
   * The chroot the scripts will run in, with the hook tree bound at IN_TARGET_DIR.
   * Symlinks are then followed as the chroot sees them (an absolute link target is
   * inside the root), and `dir` must be given as the path inside the chroot.
   */
  root?: string;
}

function splitPath(p: string): string[] {
  return p.split("/").filter((part) => part !== "" && part !== ".");
}

/** The host path of `inside` (absolute, inside `root`), following symlinks as the chroot would. */
function resolveInRoot(root: string, inside: string): string | undefined {
  let pending = splitPath(inside);
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const hostPath = join(root, ...resolved, part);
    let stats: Stats;
    try {
      stats = lstatSync(hostPath);
    } catch {
      return undefined;
    }
    if (!stats.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) return undefined;
    const target = readlinkSync(hostPath);
    if (target.startsWith("/")) resolved = [];
    pending = [...splitPath(target), ...pending];
  }
  return join(root, ...resolved);
}

function followedStats(path: string, root: string | undefined, inside: string): Stats | undefined {
  try {
    if (root === undefined) return statSync(path);
    const hostPath = resolveInRoot(root, inside);
    return hostPath === undefined ? undefined : statSync(hostPath);
  } catch {
    return undefined;
  }
}

/**
 * Reads a hook directory (a phase directory or environment.d) into the entries
 * planRunParts() and planEnvironmentFiles() decide on. A missing directory is `undefined`.
 */
export function readHookDir(
  dir: string,
  options: ReadHookDirOptions = {},
): HookDirEntry[] | undefined {
  const hostDir = options.root === undefined ? dir : resolveInRoot(options.root, dir);
  let names: string[];
  try {
    if (hostDir === undefined || !statSync(hostDir).isDirectory()) return undefined;
    names = readdirSync(hostDir);
  } catch {
    return undefined;
  }
  return names.map((name) => {
    const path = join(hostDir, name);
    const symlink = lstatSync(path).isSymbolicLink();
    const stats = followedStats(path, options.root, posix.join(dir, name));
    const kind: HookDirEntry["kind"] = !stats
      ? "dangling"
      : stats.isFile()
        ? "file"
        : stats.isDirectory()
          ? "directory"
          : "other";
    return {
      name,
      kind,
      symlink,
      executable: kind === "file" && ((stats?.mode ?? 0) & 0o111) !== 0,
    };
  });
}

export interface PhasePlan {
  phase: string;
  /** The phase directory on the host (`<hooksDir>/<phase>.d`). */
  dir: string;
  /** False when no element has hooks for the phase: nothing runs, not even environment.d. */
  exists: boolean;
  /** Script names in run order. */
  scripts: string[];
  skipped: SkippedEntry[];
  /** environment.d file names in sourcing order. */
  environmentFiles: string[];
  environmentSkipped: SkippedEntry[];
}

export interface PlanPhaseOptions {
  phase: string;
  /** The merged hook tree on the host (TMP_HOOKS_PATH). */
  hooksDir: string;
  /** For a chroot phase once the tree is bound in: follow symlinks as the chroot does. */
  root?: string;
}

/** `install` and `install.d` both name the install phase. */
export function phaseName(phase: string): string {
  const name = phase.endsWith(".d") ? phase.slice(0, -2) : phase;
  if (!/^[0-9A-Za-z_-]+$/.test(name)) {
    throw new DibError("DIB_PHASE_NAME", `invalid phase name: ${JSON.stringify(phase)}`, {
      hint: "a phase is a hook directory name such as install, post-install or finalise",
    });
  }
  return name;
}

/** What a phase will do: its scripts in order and its environment files, plus what is skipped. */
export function planPhase(options: PlanPhaseOptions): PhasePlan {
  const phase = phaseName(options.phase);
  const dir = join(options.hooksDir, `${phase}.d`);
  const base = options.root === undefined ? options.hooksDir : IN_TARGET_DIR;
  const read = (sub: string) =>
    readHookDir(posix.join(base, sub), options.root === undefined ? {} : { root: options.root });
  const phaseEntries = read(`${phase}.d`);
  const runParts = planRunParts(phaseEntries ?? []);
  const env: EnvironmentFilesPlan = planEnvironmentFiles(read("environment.d") ?? []);
  return {
    phase,
    dir,
    exists: phaseEntries !== undefined,
    scripts: runParts.run,
    skipped: runParts.skipped,
    environmentFiles: env.source,
    environmentSkipped: env.skipped,
  };
}
