import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Host, toDibError } from "@dib/host";
import { tryLock, unlock } from "./key-lock.js";
import { explainKeyChange, OUTPUT_STAGE, type StageKey } from "./stage-key.js";

/** What is stored beside each archive; written last, so its presence means the entry is whole. */
export interface StageManifest {
  key: string;
  slot: string;
  stage: string;
  /** ISO time the entry was stored. */
  created: string;
  /** Size of the archive in bytes. */
  bytes: number;
  /** sha256 of the archive. */
  sha256: string;
  /** The key's components (digests only). */
  components: Record<string, string>;
  /** The second archive: files the stage added beside the tree (see `StageSide`). */
  side?: { bytes: number; sha256: string; files: number };
  /** For the output stage: which outputs the archive holds. */
  outputs?: StoredOutputs;
}

/**
 * A build's finished outputs as stored: the file names are those the storing build wrote
 * (`<base>.qcow2`, `<base>.qcow2.sha256`, `<base>.d`), relative to its output folder; a
 * build that reuses them renames `<base>` to its own image name.
 */
export interface StoredOutputs {
  /** The image name's last part the files were written under. */
  base: string;
  /** The outputs, in the order they were written. */
  outputs: { type: string; name: string; bytes: number; checksums: Record<string, string> }[];
  /** Every top-level name in the archive (outputs, checksum files, folders). */
  names: string[];
}

/** What else `store` may be told. */
export interface StoreOptions {
  /** Archive only these names (relative to `from`; folders with their content), not `.`. */
  files?: readonly string[];
  /** zstd level for this entry (default: the store's). */
  level?: number;
  /** Recorded in the manifest (the output stage). */
  outputs?: StoredOutputs;
}

/**
 * Files a stage leaves outside the tree for later phases (an extra-data.d hook writing a
 * list into the hooks folder that a finalise.d hook reads): `dir` and the paths below it,
 * relative, that the stage added or changed. Stored in a second archive and unpacked into
 * the same place on a hit.
 */
export interface StageSide {
  dir: string;
  files: readonly string[];
}

export type RestoreResult =
  | { hit: true; reason: string; bytes: number }
  | { hit: false; reason: string; changes: string[] };

export type StoreResult = { stored: true; bytes: number } | { stored: false; reason: string };

/**
 * Options for tar that keep everything a root tree carries: numeric owners (the image's
 * users are not the host's), extended attributes of every namespace (security.capability,
 * SELinux labels), POSIX ACLs, hard links (tar's default), device nodes and sparse files.
 */
const TREE_FLAGS = ["--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"];

export interface StageStoreOptions {
  /** DIB_IMAGE_CACHE; entries live in its `stages/` folder. */
  cacheDir: string;
  host: Host;
  /** DIB_IMAGE_CACHE_MAX: the store's ceiling in bytes. */
  maxBytes: number;
  /** zstd level for new entries (default 3: fast, about 3× smaller than the tree). */
  level?: number;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The stage store: root trees after a stage, as zstd-compressed tar archives named by
 * their key. Stores go to a temporary name and are renamed into place (archive first,
 * then the manifest), so a reader never sees half an entry; a lock per key keeps two
 * builds from compressing the same tree twice without making either wait. Every restore
 * checks the archive against the manifest's sha256 first: a truncated or damaged entry is
 * removed and reported as a miss, and the stage is built again.
 */
export class StageStore {
  readonly dir: string;
  private readonly host: Host;
  /** DIB_IMAGE_CACHE_MAX: the store's ceiling in bytes. */
  readonly maxBytes: number;
  private readonly level: number;

  constructor(options: StageStoreOptions) {
    this.dir = join(options.cacheDir, "stages");
    this.host = options.host;
    this.maxBytes = options.maxBytes;
    this.level = options.level ?? 3;
  }

  archivePath(key: string): string {
    return join(this.dir, `${key}.tar.zst`);
  }

  sidePath(key: string): string {
    return join(this.dir, `${key}.side.tar.zst`);
  }

  manifestPath(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  readManifest(key: string): StageManifest | undefined {
    try {
      return JSON.parse(readFileSync(this.manifestPath(key), "utf8")) as StageManifest;
    } catch {
      return undefined;
    }
  }

  /** Every whole entry, oldest use first. */
  entries(): (StageManifest & { used: number })[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: (StageManifest & { used: number })[] = [];
    for (const name of names) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const key = name.slice(0, 64);
      const manifest = this.readManifest(key);
      const used = statSync(this.manifestPath(key), { throwIfNoEntry: false })?.mtimeMs;
      if (manifest && used !== undefined) out.push({ ...manifest, used });
    }
    return out.sort((a, b) => a.used - b.used);
  }

  /** Why there is no entry for `key`: what changed since the newest entry of the same slot. */
  explainMiss(key: StageKey): { reason: string; changes: string[] } {
    const previous = this.entries()
      .filter((e) => e.slot === key.slot && e.stage === key.stage)
      .pop();
    const what = key.stage === OUTPUT_STAGE ? "output" : "stage";
    if (!previous) {
      return { reason: `no stored ${what} for this element set yet`, changes: [] };
    }
    const changes = explainKeyChange(previous.components, key.components);
    return {
      reason: changes.length
        ? `since the last stored ${what}: ${changes.join("; ")}`
        : `no stored ${what} with this key`,
      changes,
    };
  }

  /**
   * Unpacks the stage for `key` into the empty folder `into` when a whole, intact entry
   * exists. The archive is opened once and checked and unpacked through that one open
   * file, so an eviction by another build in between cannot swap it.
   */
  async restore(key: StageKey, into: string, sideInto?: string): Promise<RestoreResult> {
    const manifest = this.readManifest(key.key);
    if (!manifest) return { hit: false, ...this.explainMiss(key) };
    const parts = [
      { path: this.archivePath(key.key), bytes: manifest.bytes, sha256: manifest.sha256, into },
    ];
    if (manifest.side && sideInto !== undefined) {
      parts.push({ path: this.sidePath(key.key), ...manifest.side, into: sideInto });
    }
    const fds: number[] = [];
    try {
      // Both archives are opened and checked before either is unpacked.
      for (const part of parts) {
        let fd: number;
        try {
          fd = openSync(part.path, "r");
        } catch {
          this.remove(key.key);
          return { hit: false, reason: "the entry's archive is missing; rebuilt", changes: [] };
        }
        fds.push(fd);
        const viaFd = `/proc/${process.pid}/fd/${fd}`;
        const size = statSync(viaFd).size;
        const sum = await sha256Of(viaFd);
        if (size !== part.bytes || sum !== part.sha256) {
          this.remove(key.key);
          return {
            hit: false,
            reason: `the stored entry is damaged (${size} of ${part.bytes} bytes, checksum ${sum === part.sha256 ? "matches" : "differs"}); removed and rebuilt`,
            changes: [],
          };
        }
      }
      for (const [i, part] of parts.entries()) {
        await this.host.run(
          [
            "tar",
            "--extract",
            "--file",
            `/proc/${process.pid}/fd/${fds[i]}`,
            "--directory",
            part.into,
            ...TREE_FLAGS,
            "--same-owner",
            "--preserve-permissions",
            "--use-compress-program=zstd -d -q",
          ],
          { hint: `the stage cache entry ${part.path} could not be unpacked` },
        );
      }
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    const now = new Date();
    try {
      utimesSync(this.manifestPath(key.key), now, now);
    } catch {
      // evicted meanwhile: the tree is already unpacked
    }
    return {
      hit: true,
      reason: `stored ${manifest.created}, ${manifest.bytes} bytes, checksum verified`,
      bytes: manifest.bytes,
    };
  }

  /**
   * Stores the tree `from` under `key`, unless another build is storing it right now or
   * it is already there. Then evicts the least recently used entries above the ceiling.
   */
  async store(
    key: StageKey,
    from: string,
    side?: StageSide,
    options: StoreOptions = {},
  ): Promise<StoreResult> {
    mkdirSync(this.dir, { recursive: true });
    if (this.readManifest(key.key)) return { stored: false, reason: "already stored" };
    const lock = join(this.dir, `${key.key}.lock`);
    if (!tryLock(lock)) {
      return { stored: false, reason: "another build is storing this stage" };
    }
    // Another build may have finished storing it between the first look and the lock.
    if (this.readManifest(key.key)) {
      unlock(lock);
      return { stored: false, reason: "already stored" };
    }
    const temp = join(this.dir, `.${key.key}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    const level = options.level ?? this.level;
    const list = `${temp}.list`;
    try {
      // The names to archive: the whole folder, or a list (given as a file: names may hold anything).
      let what = ["."];
      if (options.files) {
        writeFileSync(list, options.files.map((f) => `${f}\n`).join(""));
        what = ["--verbatim-files-from", "--files-from", list];
      }
      await this.host.run(
        [
          "tar",
          "--create",
          "--file",
          temp,
          "--directory",
          from,
          ...TREE_FLAGS,
          "--sparse",
          "--one-file-system",
          `--use-compress-program=zstd -T0 -${level} -q`,
          ...what,
        ],
        { hint: "the stage cache could not archive the tree; is zstd installed?" },
      );
      rmSync(list, { force: true });
      const bytes = statSync(temp).size;
      const manifest: StageManifest = {
        key: key.key,
        slot: key.slot,
        stage: key.stage,
        created: new Date().toISOString(),
        bytes,
        sha256: await sha256Of(temp),
        components: key.components,
      };
      if (options.outputs) manifest.outputs = options.outputs;
      if (side && side.files.length > 0) {
        writeFileSync(list, side.files.map((f) => `${f}\n`).join(""));
        try {
          await this.host.run(
            [
              "tar",
              "--create",
              "--file",
              `${temp}.side`,
              "--directory",
              side.dir,
              ...TREE_FLAGS,
              "--no-recursion",
              "--verbatim-files-from",
              "--files-from",
              list,
              `--use-compress-program=zstd -T0 -${level} -q`,
            ],
            { hint: "the stage cache could not archive the files the stage left beside the tree" },
          );
        } finally {
          rmSync(list, { force: true });
        }
        manifest.side = {
          bytes: statSync(`${temp}.side`).size,
          sha256: await sha256Of(`${temp}.side`),
          files: side.files.length,
        };
        renameSync(`${temp}.side`, this.sidePath(key.key));
      }
      renameSync(temp, this.archivePath(key.key));
      const manifestTemp = `${temp}.json`;
      writeFileSync(manifestTemp, `${JSON.stringify(manifest)}\n`);
      renameSync(manifestTemp, this.manifestPath(key.key));
      this.evict(key.key);
      return { stored: true, bytes };
    } catch (error) {
      rmSync(temp, { force: true });
      rmSync(list, { force: true });
      rmSync(`${temp}.side`, { force: true });
      rmSync(`${temp}.json`, { force: true });
      return { stored: false, reason: toDibError(error).message };
    } finally {
      unlock(lock);
    }
  }

  /** Removes one entry (manifest first, so no reader takes the archive for whole). */
  remove(key: string): void {
    rmSync(this.manifestPath(key), { force: true });
    rmSync(this.archivePath(key), { force: true });
    rmSync(this.sidePath(key), { force: true });
  }

  /**
   * Removes least recently used entries until the store is within its ceiling (never
   * `keep`, the entry just stored), and temporary files a killed build left a day ago.
   * Returns the keys removed.
   */
  evict(keep?: string): string[] {
    const entries = this.entries();
    let total = entries.reduce((sum, e) => sum + e.bytes + (e.side?.bytes ?? 0), 0);
    const removed: string[] = [];
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (e.key === keep) continue;
      this.remove(e.key);
      total -= e.bytes + (e.side?.bytes ?? 0);
      removed.push(e.key);
    }
    const dayAgo = Date.now() - 24 * 3600 * 1000;
    for (const name of readdirSync(this.dir)) {
      if (!/\.tmp(\.json|\.side|\.list)?$/.test(name)) continue;
      const s = statSync(join(this.dir, name), { throwIfNoEntry: false });
      if (s && s.mtimeMs < dayAgo) rmSync(join(this.dir, name), { force: true });
    }
    return removed;
  }
}
