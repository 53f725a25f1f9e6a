import { existsSync, realpathSync, rmdirSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import {
  DibError,
  describeResource,
  Host,
  isAtOrBelow,
  isMountPoint,
  Ledger,
  type LedgerEntry,
  type MountOptions,
  resolveInRoot,
} from "@dib/host";
import type { Command } from "commander";
import { internalGroup } from "./elements.js";
import { buildLedgerDir } from "./internal-ledger-dir.js";

/** The filesystems a hook may mount into a tree besides binds: what a chroot needs, and tmpfs. */
const IN_TREE_FSTYPES = ["proc", "sysfs", "devpts", "tmpfs"] as const;

/** Propagation flags: when the hook gives none, the mount is made private. */
const PROPAGATION = new Set(["private", "rprivate", "slave", "rslave", "shared", "rshared"]);

/**
 * Options that would make something other than the mount asked for: another kind of mount
 * (a bind by `-o`, a move, a remount of what is there), a loop device the ledger would not
 * know of, or a directory made by mount(8) itself, following the tree's symlinks.
 */
const REFUSED_OPTION = /^(r?bind|move|remount|loop(=.*)?|offset=.*|sizelimit=.*|X-mount\..*)$/i;

export interface TreeMountRequest {
  /** The image tree ($TARGET_ROOT): `path` is resolved inside it as a chroot would. */
  root: string;
  /** Where, inside the tree (absolute or relative: both start at `root`). */
  path: string;
  /** A host directory (with `bind`), or the filesystem's source name (`proc`, `devpts` …). */
  source: string;
  bind?: boolean;
  readOnly?: boolean;
  fstype?: string;
  options?: string[];
}

export interface TreeMount {
  /** The ledger entry of the mount. */
  seq: number;
  /** Where it is on the host: inside the tree's real path. */
  target: string;
  /** False when the build held a mount there already: nothing was made. */
  made: boolean;
}

/** The tree's real path; refused when it is missing, not a directory, or the host's `/`. */
function treeRoot(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    throw new DibError("DIB_MOUNT_ROOT", `the image tree ${root} does not exist`, {
      hint: 'pass the tree the hook works on (--root "$TARGET_ROOT")',
    });
  }
  if (!statSync(real).isDirectory()) {
    throw new DibError("DIB_MOUNT_ROOT", `the image tree ${root} is not a directory`, {
      hint: 'pass the tree the hook works on (--root "$TARGET_ROOT")',
    });
  }
  if (real === "/") {
    throw new DibError(
      "DIB_MOUNT_ROOT",
      `--root ${root} is the host's /: nothing would keep the mount inside a build`,
      { hint: 'pass the image tree (--root "$TARGET_ROOT"); is TARGET_ROOT empty?' },
    );
  }
  return real;
}

/**
 * Where `path` is inside the tree, with every symlink resolved as the chroot would see it.
 * What a chroot cannot reach — the tree itself, or anything outside it — is refused.
 */
function targetInTree(realRoot: string, path: string, create: boolean): string {
  const target = resolveInRoot(realRoot, path, { create });
  if (target === realRoot || !isAtOrBelow(target, realRoot)) {
    throw new DibError(
      "DIB_MOUNT_OUTSIDE_TREE",
      `${path} resolves to ${target}, which is not below the image tree ${realRoot}`,
      {
        hint: "a mount goes on a directory inside the tree; look for a symlink on the way (readlink) in the tree",
        details: { root: realRoot, path, target },
      },
    );
  }
  return target;
}

/** The mount to make, checked before anything is made on the host. */
function mountOptions(request: TreeMountRequest): Omit<MountOptions, "target"> {
  const options = (request.options ?? []).filter((o) => o !== "");
  const refused = options.filter((o) => REFUSED_OPTION.test(o));
  if (refused.length > 0) {
    throw new DibError(
      "DIB_MOUNT_OPTIONS",
      `mount option ${refused.join(", ")} is not allowed here`,
      {
        hint: "bind with --bind, make it read-only with --read-only; the mount point is made inside the tree by dib-cli",
      },
    );
  }
  if (request.bind === (request.fstype !== undefined)) {
    throw new DibError("DIB_MOUNT_OPTIONS", "give exactly one of --bind and --type", {
      hint: `--bind SOURCE_DIR PATH binds a host directory; --type ${IN_TREE_FSTYPES.join("|")} NAME PATH mounts a filesystem`,
    });
  }
  if (!options.some((o) => PROPAGATION.has(o))) options.push("private");
  if (request.bind) {
    if (!isAbsolute(request.source) || !existsSync(request.source)) {
      throw new DibError(
        "DIB_MOUNT_SOURCE",
        `${request.source} is not an absolute path to a host directory`,
        {
          hint: "bind a host directory that exists (mkdir -p it first), named by its absolute path",
        },
      );
    }
    if (!statSync(request.source).isDirectory()) {
      throw new DibError("DIB_MOUNT_SOURCE", `${request.source} is not a directory`, {
        hint: "only directories are bound into a tree",
      });
    }
    return { source: request.source, bind: true, options, readOnly: request.readOnly === true };
  }
  const fstype = request.fstype as string;
  if (!(IN_TREE_FSTYPES as readonly string[]).includes(fstype)) {
    throw new DibError("DIB_MOUNT_FSTYPE", `--type ${fstype} cannot be mounted into a tree`, {
      hint: `use one of ${IN_TREE_FSTYPES.join(", ")}, or --bind a host directory`,
    });
  }
  if (request.readOnly && !options.includes("ro")) options.push("ro");
  return { source: request.source || fstype, fstype, options };
}

function heldMountsAt(ledger: Ledger, target: string): LedgerEntry[] {
  return ledger
    .held()
    .filter((e) => e.resource.kind === "mount" && isAtOrBelow(e.resource.target, target));
}

/**
 * Mounts into an image tree for a hook: the target is resolved inside the tree (a symlink
 * in the image never sends the mount outside it), the mount is written to the build's
 * ledger before it is made, so the build's undo and `dib-cli cleanup` release it even
 * after a `kill -9`. A mount the build already holds at the target is left as it is.
 */
export async function mountInTree(
  request: TreeMountRequest,
  options: { ledgerDir?: string | undefined; host: Host; env?: NodeJS.ProcessEnv },
): Promise<TreeMount> {
  const dir = buildLedgerDir(options.ledgerDir, options.env);
  const spec = mountOptions(request);
  const realRoot = treeRoot(request.root);
  const target = targetInTree(realRoot, request.path, true);
  const ledger = Ledger.open(dir, options.host);
  try {
    const there = ledger
      .held()
      .find((e) => e.resource.kind === "mount" && e.resource.target === target);
    if (there && isMountPoint(target)) return { seq: there.seq, target, made: false };
    // Recorded but not mounted (unmounted by hand, say): the old record is done with.
    if (there) ledger.markReleased(there.seq);
    const held = await ledger.mount({ ...spec, target });
    return { seq: held.seq, target, made: true };
  } finally {
    ledger.close();
  }
}

export interface TreeUnmountRequest {
  /** The tree and the path in it, as they were given to mountInTree … */
  root?: string | undefined;
  path?: string | undefined;
  /** … or the ledger entries that mountInTree printed. */
  entries?: number[] | undefined;
  /** Remove the mount point directories afterwards when they are empty. */
  rmdir?: boolean;
}

/** The held mount entries among `seqs`; another kind of entry is refused. */
function mountEntries(ledger: Ledger, seqs: number[]): LedgerEntry[] {
  const all = ledger.entries();
  const found: LedgerEntry[] = [];
  for (const seq of seqs) {
    const entry = all.find((e) => e.seq === seq);
    if (entry && entry.resource.kind !== "mount") {
      throw new DibError(
        "DIB_MOUNT_ENTRY",
        `ledger entry ${seq} is the ${describeResource(entry.resource)}, not a mount`,
        { hint: "pass the numbers `dib-cli internal mount` printed" },
      );
    }
    if (entry && !entry.released) found.push(entry);
  }
  return found;
}

/**
 * Removes an emptied mount point; left alone when something is mounted there again, it is
 * not empty, or its path no longer is what was mounted on (a symlink on the way since).
 */
function removeMountPoint(target: string): void {
  try {
    if (realpathSync(target) !== target || isMountPoint(target)) return;
    rmdirSync(target);
  } catch {
    // gone, or not empty: left as it is
  }
}

/**
 * Releases the build's mounts at (and below) a path of the tree, or the given ledger
 * entries, newest first: unmounted, and marked released in the ledger. What the ledger
 * does not hold (released already, by an earlier hook or the build) is nothing to do.
 * Returns what was released.
 */
export async function unmountInTree(
  request: TreeUnmountRequest,
  options: { ledgerDir?: string | undefined; host: Host; env?: NodeJS.ProcessEnv },
): Promise<string[]> {
  const dir = buildLedgerDir(options.ledgerDir, options.env);
  const bad = (request.entries ?? []).filter((n) => !(Number.isInteger(n) && n > 0));
  if (bad.length > 0) {
    throw new DibError(
      "DIB_MOUNT_OPTIONS",
      `--entry ${bad.join(" ")} is not a ledger entry number`,
      {
        hint: "pass the numbers `dib-cli internal mount` printed",
      },
    );
  }
  const byPath = request.root !== undefined && request.path !== undefined;
  if (byPath === (request.entries !== undefined && request.entries.length > 0)) {
    throw new DibError("DIB_MOUNT_OPTIONS", "give either --root with a PATH, or --entry", {
      hint: 'dib-cli internal umount --root "$TARGET_ROOT" /var/cache/apt/archives, or --entry N… as `internal mount` printed them',
    });
  }
  const ledger = Ledger.open(dir, options.host);
  try {
    let entries: LedgerEntry[];
    if (byPath) {
      // A tree that is gone has nothing mounted in it any more.
      if (!existsSync(request.root as string)) return [];
      const target = targetInTree(treeRoot(request.root as string), request.path as string, false);
      entries = heldMountsAt(ledger, target);
    } else {
      entries = mountEntries(ledger, request.entries ?? []);
    }
    const released: string[] = [];
    for (const e of entries.sort((a, b) => b.seq - a.seq)) {
      await ledger.release(e.seq);
      released.push(describeResource(e.resource));
      if (request.rmdir && e.resource.kind === "mount") removeMountPoint(e.resource.target);
    }
    return released;
  } finally {
    ledger.close();
  }
}

function optionList(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(",").filter((o) => o !== "");
}

/**
 * `dib-cli internal mount --root TREE (--bind | -t FSTYPE) [-o OPTS] [--read-only] SOURCE
 * PATH` and `dib-cli internal umount (--root TREE PATH | --entry N…)`: how element hooks
 * mount into the image tree, recorded in the build's ledger (DIB_LEDGER_DIR).
 */
export function registerInternalMountCommands(program: Command): void {
  const group = internalGroup(program);
  const host = () => new Host({ trace: program.opts().trace === true });
  group
    .command("mount")
    .description(
      "mount into an image tree, recorded in the build's ledger first; prints the ledger entry",
    )
    .requiredOption("--root <dir>", "the image tree ($TARGET_ROOT); PATH is resolved inside it")
    .option("--ledger-dir <dir>", "the build directory (default: $DIB_LEDGER_DIR)")
    .option("--bind", "bind-mount the host directory SOURCE (made private)")
    .option("-t, --type <fstype>", IN_TREE_FSTYPES.join(", "))
    .option("-o, --options <list>", "comma-separated mount options")
    .option("--read-only", "make the mount read-only")
    .argument("<source>", "a host directory with --bind, else the filesystem's name (proc …)")
    .argument("<path>", "the mount point inside the tree (made when missing)")
    .action(
      async (
        source: string,
        path: string,
        opts: {
          root: string;
          ledgerDir?: string;
          bind?: boolean;
          type?: string;
          options?: string;
          readOnly?: boolean;
        },
      ) => {
        const result = await mountInTree(
          {
            root: opts.root,
            path,
            source,
            bind: opts.bind === true,
            readOnly: opts.readOnly === true,
            options: optionList(opts.options),
            ...(opts.type !== undefined ? { fstype: opts.type } : {}),
          },
          { ledgerDir: opts.ledgerDir, host: host() },
        );
        // The entry of a mount this call made, for `internal umount --entry`; nothing when
        // the build already had one there (its maker releases it).
        if (result.made) process.stdout.write(`${result.seq}\n`);
      },
    );
  group
    .command("umount")
    .description("release the build's mounts at a path of an image tree, or ledger entries")
    .option("--root <dir>", "the image tree ($TARGET_ROOT); PATH is resolved inside it")
    .option("--entry <n...>", "ledger entries `internal mount` printed (several: one call)")
    .option("--ledger-dir <dir>", "the build directory (default: $DIB_LEDGER_DIR)")
    .option("--rmdir", "remove the mount point afterwards when it is empty")
    .argument("[path]", "the mount point inside the tree")
    .action(
      async (
        path: string | undefined,
        opts: { root?: string; entry?: string[]; ledgerDir?: string; rmdir?: boolean },
      ) => {
        await unmountInTree(
          {
            root: opts.root,
            path,
            entries: opts.entry?.map((n) => (/^\d+$/.test(n) ? Number(n) : Number.NaN)),
            rmdir: opts.rmdir === true,
          },
          { ledgerDir: opts.ledgerDir, host: host() },
        );
      },
    );
}
