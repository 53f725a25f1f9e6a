import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { DibError } from "@dib/errors";
import {
  BINFMT_DIR,
  type BinfmtDefinition,
  binfmtMounted,
  registerBinfmt,
  unregisterBinfmt,
} from "./binfmt.js";
import type { Host } from "./host.js";
import {
  type ContainerRuntime,
  describeResource,
  heldInUndoOrder,
  isNoSuchRuntimeObject,
  type LedgerEntry,
  type LedgerRecord,
  type LedgerResource,
  parseLedger,
  type RuntimeObjectKind,
  runtimeObjectRemoveArgv,
} from "./ledger-file.js";
import { isAtOrBelow, isMountPoint, mountsBelow, readMountinfo } from "./mountinfo.js";
import { isProcessRunning, processStartTime } from "./process-identity.js";

export const LEDGER_FILE = "ledger.jsonl";

export interface LoopOptions {
  sectorSize?: number;
  offset?: number;
  sizelimit?: number;
  readOnly?: boolean;
}

export interface MountOptions {
  source: string;
  target: string;
  fstype?: string;
  /** `-o` options, e.g. ["ro"] or ["mode=755"]. */
  options?: string[];
  bind?: boolean;
  /** Make a bind mount read-only (a second, remount step). */
  readOnly?: boolean;
}

export interface Held<T = Record<string, unknown>> {
  seq: number;
  detail: T;
}

/** What a lock file says about the build holding it. */
export interface LockOwner {
  pid: number;
  /** The process's start time (processStartTime), to tell it from a later one with its pid. */
  start?: number;
  /** The holder's build directory (its ledger's). */
  buildDir: string;
  /** ISO time the lock was taken. */
  at: string;
}

export interface UndoReport {
  released: string[];
  failed: { resource: string; error: string }[];
}

const open = new Set<Ledger>();
/** This process's start time, read once. */
const ownStart = processStartTime(process.pid);

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/**
 * The record of everything a build holds on the host. Each resource is written down
 * (and fsync'ed) before it is created, so that an interrupted build — even a SIGKILL'ed
 * one — can always be undone by replaying the file.
 */
export class Ledger {
  readonly dir: string;
  readonly file: string;
  private readonly host: Host;
  private nextSeq: number;

  private constructor(dir: string, host: Host, nextSeq: number) {
    this.dir = dir;
    this.file = join(dir, LEDGER_FILE);
    this.host = host;
    this.nextSeq = nextSeq;
  }

  /** Opens (or creates) the ledger of a build directory. */
  static open(dir: string, host: Host): Ledger {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, LEDGER_FILE);
    let entries: LedgerEntry[] = [];
    try {
      entries = parseLedger(readFileSync(file, "utf8"));
    } catch {
      // a new ledger
    }
    const ledger = new Ledger(dir, host, (entries.at(-1)?.seq ?? 0) + 1);
    open.add(ledger);
    return ledger;
  }

  /** Every ledger opened in this process and not yet closed (for the interrupt handler). */
  static openLedgers(): Ledger[] {
    return [...open];
  }

  entries(): LedgerEntry[] {
    try {
      return parseLedger(readFileSync(this.file, "utf8"));
    } catch {
      return [];
    }
  }

  held(): LedgerEntry[] {
    return this.entries().filter((e) => !e.released);
  }

  /**
   * The processes other than this one that wrote to the ledger and still run (the same
   * pid and start time): a build directory whose build is still going.
   */
  liveWriters(): number[] {
    const writers = new Map<number, number | undefined>();
    for (const e of this.entries()) writers.set(e.pid, e.start);
    return [...writers]
      .filter(([pid, start]) => pid !== process.pid && isProcessRunning(pid, start))
      .map(([pid]) => pid);
  }

  /** Stops tracking this ledger for interrupts (after a successful undo). */
  close(): void {
    open.delete(this);
  }

  private append(record: LedgerRecord): void {
    const fd = openSync(this.file, "a");
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Records `resource`, then creates it. If creation fails the record stays, and undo()
   * cleans up whatever part of it came to exist.
   */
  async acquire<T extends Record<string, unknown>>(
    resource: LedgerResource,
    create: () => Promise<T>,
  ): Promise<Held<T>> {
    // Hooks add records of their own (`dib-cli internal ledger-hold`) from another process:
    // never reuse a sequence number the file already has.
    const seq = Math.max(this.nextSeq, (this.entries().at(-1)?.seq ?? 0) + 1);
    this.nextSeq = seq + 1;
    this.append({
      seq,
      op: "acquire",
      resource,
      pid: process.pid,
      ...(ownStart !== undefined ? { start: ownStart } : {}),
      at: new Date().toISOString(),
    });
    const detail = await create();
    this.append({ seq, op: "ready", detail });
    return { seq, detail };
  }

  /** Releases one held resource now. */
  async release(seq: number): Promise<void> {
    const entry = this.entries().find((e) => e.seq === seq);
    if (!entry || entry.released) return;
    await this.undoResource(entry.resource);
    this.append({ seq, op: "release" });
  }

  /** Forgets a resource that something else already released (e.g. a loop detached by `losetup -D`). */
  markReleased(seq: number): void {
    this.append({ seq, op: "release" });
  }

  // ---- the resources -------------------------------------------------------------

  async attachLoop(file: string, options: LoopOptions = {}): Promise<Held<{ device: string }>> {
    const real = realpathOrSelf(file);
    const resource: LedgerResource = { kind: "loop", file: real };
    if (options.offset) resource.offset = options.offset;
    if (options.sizelimit) resource.sizelimit = options.sizelimit;
    return this.acquire(resource, async () => {
      const argv = ["losetup", "--show", "--find"];
      if (options.sectorSize) argv.push("--sector-size", String(options.sectorSize));
      if (options.offset) argv.push("--offset", String(options.offset));
      if (options.sizelimit) argv.push("--sizelimit", String(options.sizelimit));
      if (options.readOnly) argv.push("--read-only");
      argv.push(real);
      const { stdout } = await this.host.run(argv, {
        hint: "is the loop module loaded (modprobe loop) and are free loop devices left?",
      });
      return { device: stdout.trim() };
    });
  }

  async mount(options: MountOptions): Promise<Held<{ target: string }>> {
    const target = realpathOrSelf(options.target);
    const resource: LedgerResource = { kind: "mount", target, source: options.source };
    if (options.fstype) resource.fstype = options.fstype;
    if (options.bind) resource.bind = true;
    return this.acquire(resource, async () => {
      const argv = ["mount"];
      if (options.bind) argv.push("--bind");
      if (options.fstype) argv.push("-t", options.fstype);
      if (options.options?.length) argv.push("-o", options.options.join(","));
      argv.push(options.source, target);
      await this.host.run(argv);
      if (options.bind && options.readOnly) {
        await this.host.run(["mount", "-o", "remount,ro,bind", target]);
      }
      return { target };
    });
  }

  /** Adds the kernel's partition nodes for a loop device with `partx -a` (works without part-table parsers). */
  async addPartitions(device: string, file: string): Promise<Held<{ device: string }>> {
    return this.acquire({ kind: "partitions", device, file: realpathOrSelf(file) }, async () => {
      await this.host.run(["partx", "-a", device]);
      return { device };
    });
  }

  async activateVolumeGroup(vg: string): Promise<Held<{ vg: string }>> {
    return this.acquire({ kind: "lvm", vg }, async () => {
      await this.host.run(["vgchange", "-ay", vg]);
      return { vg };
    });
  }

  /** Records that processes may run inside `root`; releasing it ends them. */
  async chroot(root: string): Promise<Held<{ root: string }>> {
    const real = realpathOrSelf(root);
    return this.acquire({ kind: "chroot", root: real }, async () => ({ root: real }));
  }

  /**
   * Takes the lock file `file` for this build (recorded first, so undo and `dib-cli
   * cleanup` remove it): created exclusively, naming this process and build directory.
   * A lock whose holder no longer runs is taken over; one held by a running build is a
   * DibError DIB_LOCKED naming that build. `what` says what the lock guards, for the message.
   */
  async lock(file: string, what: string): Promise<Held<{ file: string }>> {
    const path = resolve(file);
    return this.acquire({ kind: "lock", file: path }, async () => {
      const mine: LockOwner = {
        pid: process.pid,
        ...(ownStart !== undefined ? { start: ownStart } : {}),
        buildDir: this.dir,
        at: new Date().toISOString(),
      };
      for (let attempt = 0; ; attempt++) {
        try {
          const fd = openSync(path, "wx", 0o644);
          try {
            writeSync(fd, `${JSON.stringify(mine)}\n`);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          return { file: path };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const holder = readLock(path);
        if (holder === undefined && attempt < 3 && ageMs(path) < 5000) {
          // Just made by another build that has not written its name yet.
          await sleep(300);
          continue;
        }
        if (holder && holder.buildDir === this.dir) return { file: path };
        if (holder && isProcessRunning(holder.pid, holder.start)) {
          throw new DibError(
            "DIB_LOCKED",
            `${what} is in use by another build: pid ${holder.pid}, build directory ${holder.buildDir} (since ${holder.at})`,
            {
              hint: `wait for that build to finish, or choose another name; if it is not running any more: dib-cli cleanup ${holder.buildDir}`,
              file: path,
              details: { owner: holder },
            },
          );
        }
        if (attempt >= 6) {
          throw new DibError("DIB_LOCKED", `could not take the lock ${path} for ${what}`, {
            hint: "another build keeps taking it; try again",
            file: path,
          });
        }
        // Its build is gone (killed, or the machine rebooted): take it over.
        this.host.debug(`taking over the stale lock ${path}`);
        rmSync(path, { force: true });
      }
    });
  }

  /**
   * Records a container or image that a container runtime is about to make (a hook makes
   * it, after this returns): undo and `dib-cli cleanup` remove it if it is still there.
   */
  async holdRuntimeObject(
    runtime: ContainerRuntime,
    object: RuntimeObjectKind,
    name: string,
  ): Promise<Held<{ name: string }>> {
    return this.acquire({ kind: "runtime-object", runtime, object, name }, async () => ({ name }));
  }

  /**
   * Forgets the held records of a container or image that its maker removed itself;
   * returns how many there were.
   */
  forgetRuntimeObject(runtime: ContainerRuntime, object: RuntimeObjectKind, name: string): number {
    const mine = this.held().filter(
      (e) =>
        e.resource.kind === "runtime-object" &&
        e.resource.runtime === runtime &&
        e.resource.object === object &&
        e.resource.name === name,
    );
    for (const e of mine) this.markReleased(e.seq);
    return mine.length;
  }

  /**
   * Registers a binfmt_misc entry (an emulator for a foreign architecture) under the
   * definition's name; undo and `dib-cli cleanup` remove it again. binfmt_misc must be
   * mounted (mount it through `mount` first, so that is undone too).
   */
  async registerBinfmt(def: BinfmtDefinition): Promise<Held<{ name: string }>> {
    return this.acquire({ kind: "binfmt", name: def.name }, async () => {
      registerBinfmt(def);
      return { name: def.name };
    });
  }

  // ---- undo ----------------------------------------------------------------------

  /**
   * Releases everything still held, newest first. Tolerates resources that were only
   * half-created or are already gone, touches only this build's own resources and can be
   * run any number of times. Throws (after trying everything) if something stays held.
   */
  async undo(): Promise<UndoReport> {
    const report: UndoReport = { released: [], failed: [] };
    for (const entry of heldInUndoOrder(this.entries())) {
      try {
        await this.undoResource(entry.resource);
        this.append({ seq: entry.seq, op: "release" });
        report.released.push(describeResource(entry.resource));
      } catch (error) {
        report.failed.push({
          resource: describeResource(entry.resource),
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (report.failed.length > 0) {
      throw new DibError(
        "DIB_LEDGER_UNDO_FAILED",
        `could not release ${report.failed.length} host resource(s): ${report.failed.map((f) => f.resource).join(", ")}`,
        {
          hint: `see what holds them (fuser -vm, losetup -a), then run: dib-cli cleanup ${this.dir}`,
          file: this.file,
          details: { ...report },
        },
      );
    }
    this.close();
    return report;
  }

  private async undoResource(r: LedgerResource): Promise<void> {
    switch (r.kind) {
      case "chroot":
        return this.endProcessesIn(r.root);
      case "mount":
        return this.unmountTree(r.target);
      case "partitions":
        return this.removePartitions(r.device, r.file);
      case "lvm":
        await this.host.run(["vgchange", "-an", r.vg], { allowFailure: true });
        return;
      case "loop":
        return this.detachLoopsOf(r);
      case "lock":
        // Another build's by now (this one's was taken over, or never got it): left alone.
        if (readLock(r.file)?.buildDir === this.dir) rmSync(r.file, { force: true });
        return;
      case "runtime-object":
        return this.removeRuntimeObject(r);
      case "binfmt":
        return this.removeBinfmt(r.name);
    }
  }

  /**
   * Removes a binfmt_misc entry. Entries outlive an unmount of binfmt_misc (another
   * build's, say), so it is mounted again for the removal when it has to be.
   */
  private async removeBinfmt(name: string): Promise<void> {
    if (binfmtMounted()) return unregisterBinfmt(name);
    await this.host.run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT_DIR]);
    try {
      unregisterBinfmt(name);
    } finally {
      await this.host.run(["umount", BINFMT_DIR], { allowFailure: true });
    }
  }

  /** Removes a container or image; one that is not there (any more) is fine. */
  private async removeRuntimeObject(
    r: Extract<LedgerResource, { kind: "runtime-object" }>,
  ): Promise<void> {
    const argv = runtimeObjectRemoveArgv(r);
    let result: Awaited<ReturnType<Host["run"]>>;
    try {
      result = await this.host.run(argv, { allowFailure: true });
    } catch (error) {
      // The runtime is not installed (any more): nothing of it can be left to remove.
      if ((error as { code?: string }).code === "DIB_TOOL_MISSING") {
        this.host.debug(`${r.runtime} is not installed: ${r.object} ${r.name} cannot exist`);
        return;
      }
      throw error;
    }
    if (result.exitCode === 0 || isNoSuchRuntimeObject(`${result.stderr}\n${result.stdout}`))
      return;
    throw new DibError(
      "DIB_RUNTIME_OBJECT_BUSY",
      `${argv.join(" ")} failed: ${(result.stderr || result.stdout).trim().slice(0, 300)}`,
      { hint: `see what uses it (${r.runtime} ps --all), then run: dib-cli cleanup ${this.dir}` },
    );
  }

  private async endProcessesIn(root: string): Promise<void> {
    const pidsInRoot = () => {
      const pids: number[] = [];
      for (const name of readdirSync("/proc")) {
        if (!/^\d+$/.test(name)) continue;
        try {
          const procRoot = readlinkSync(`/proc/${name}/root`);
          if (isAtOrBelow(procRoot, root)) pids.push(Number(name));
        } catch {
          // gone, or a kernel thread
        }
      }
      return pids;
    };
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      const pids = pidsInRoot();
      if (pids.length === 0) return;
      this.host.debug(`ending processes in ${root}: ${pids.join(" ")} (${signal})`);
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      for (let i = 0; i < 20 && pidsInRoot().length > 0; i++) await sleep(100);
    }
    if (pidsInRoot().length > 0) {
      throw new DibError("DIB_CHROOT_BUSY", `processes in ${root} survived SIGKILL`);
    }
  }

  /** Unmounts `target` and anything mounted below it, deepest first. */
  private async unmountTree(target: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const below = mountsBelow(target);
      if (below.length === 0) return;
      for (const m of below) {
        const lazy = attempt >= 3;
        await this.host.run(lazy ? ["umount", "-l", m.target] : ["umount", m.target], {
          allowFailure: true,
        });
      }
      if (mountsBelow(target).length > 0) await sleep(300 * (attempt + 1));
    }
    if (isMountPoint(target, readMountinfo()) || mountsBelow(target).length > 0) {
      throw new DibError("DIB_UMOUNT_FAILED", `${target} is still mounted`, {
        hint: `something still uses it: fuser -vm ${target}`,
      });
    }
  }

  private async removePartitions(device: string, file: string): Promise<void> {
    if (loopBackingFile(device) !== file) return; // detached already, or reused by someone else
    await this.host.run(["partx", "-d", device], { allowFailure: true });
  }

  private async detachLoopsOf(r: Extract<LedgerResource, { kind: "loop" }>): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const devices = loopDevicesOf(r.file, r.offset ?? 0, r.sizelimit ?? 0);
      if (devices.length === 0) return;
      for (const dev of devices) {
        await this.host.run(["losetup", "--detach", dev], { allowFailure: true });
      }
      await sleep(100 * (attempt + 1));
    }
    const left = loopDevicesOf(r.file, r.offset ?? 0, r.sizelimit ?? 0);
    if (left.length > 0) {
      throw new DibError("DIB_LOOP_BUSY", `could not detach ${left.join(", ")} (${r.file})`, {
        hint: `something still uses it: fuser -v ${left.join(" ")}`,
      });
    }
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The holder named by a lock file; undefined when there is none or it is unreadable. */
export function readLock(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as Partial<LockOwner>;
    if (typeof owner.pid !== "number" || typeof owner.buildDir !== "string") return undefined;
    return {
      pid: owner.pid,
      ...(typeof owner.start === "number" ? { start: owner.start } : {}),
      buildDir: owner.buildDir,
      at: typeof owner.at === "string" ? owner.at : "",
    };
  } catch {
    return undefined;
  }
}

/** The backing file of a loop device, read from sysfs (undefined when it is not attached). */
export function loopBackingFile(device: string): string | undefined {
  const name = device.replace(/^\/dev\//, "");
  try {
    return readFileSync(`/sys/block/${name}/loop/backing_file`, "utf8")
      .trim()
      .replace(/ \(deleted\)$/, "");
  } catch {
    return undefined;
  }
}

function readNumber(path: string): number {
  try {
    return Number(readFileSync(path, "utf8").trim());
  } catch {
    return 0;
  }
}

/** Loop devices currently backed by `file` at `offset` with `sizelimit`, from sysfs. */
export function loopDevicesOf(file: string, offset = 0, sizelimit = 0): string[] {
  const found: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/sys/block").filter((n) => /^loop\d+$/.test(n));
  } catch {
    return found;
  }
  for (const name of names) {
    const backing = loopBackingFile(name);
    if (backing !== file) continue;
    if (readNumber(`/sys/block/${name}/loop/offset`) !== offset) continue;
    if (readNumber(`/sys/block/${name}/loop/sizelimit`) !== sizelimit) continue;
    found.push(`/dev/${name}`);
  }
  return found;
}
