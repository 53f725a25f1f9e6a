/** The resources a build can hold on the host; each knows how to be found again after a crash. */
export type LedgerResource =
  /** A loop device, found again by its backing file (and offset/size limit), never by name. */
  | { kind: "loop"; file: string; offset?: number; sizelimit?: number }
  /** Anything mounted at `target`: a filesystem, a bind mount, a tmpfs, proc, sysfs … */
  | { kind: "mount"; target: string; source?: string; fstype?: string; bind?: boolean }
  /** Partition nodes added to a loop device with partx (BLKPG). */
  | { kind: "partitions"; device: string; file: string }
  /** An activated LVM volume group. */
  | { kind: "lvm"; vg: string }
  /** Processes that may be running with `root` as their root directory. */
  | { kind: "chroot"; root: string }
  /**
   * A lock file that keeps other builds off a path (the output name): removed on release
   * only while it still names this build's directory.
   */
  | { kind: "lock"; file: string }
  /**
   * A container or image a container runtime made for the build (a hook records it with
   * `dib-cli internal ledger-hold` before it creates it): removed with the runtime's own
   * `rm -f` / `rmi -f`, by the name the hook gave it.
   */
  | { kind: "runtime-object"; runtime: ContainerRuntime; object: RuntimeObjectKind; name: string }
  /** A binfmt_misc entry the build registered (an emulator for a foreign architecture). */
  | { kind: "binfmt"; name: string };

/** The container runtimes whose objects the ledger can remove. */
export const CONTAINER_RUNTIMES = ["podman", "buildah", "docker"] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];
export const RUNTIME_OBJECT_KINDS = ["container", "image"] as const;
export type RuntimeObjectKind = (typeof RUNTIME_OBJECT_KINDS)[number];

export type LedgerRecord =
  | {
      seq: number;
      op: "acquire";
      resource: LedgerResource;
      pid: number;
      /** The writer's start time (processStartTime), so a reused pid is not taken for it. */
      start?: number;
      at: string;
    }
  | { seq: number; op: "ready"; detail: Record<string, unknown> }
  | { seq: number; op: "release" };

export interface LedgerEntry {
  seq: number;
  resource: LedgerResource;
  /** What creating it reported (e.g. the loop device's name); absent if it was half-created. */
  detail: Record<string, unknown> | undefined;
  released: boolean;
  pid: number;
  /** The writer's start time, when recorded. */
  start?: number;
}

/**
 * Parses a ledger file. A torn last line (the process died mid-write) is ignored: the
 * resource it describes was not created yet, because records are written first.
 */
export function parseLedger(text: string): LedgerEntry[] {
  const bySeq = new Map<number, LedgerEntry>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let rec: LedgerRecord;
    try {
      rec = JSON.parse(line) as LedgerRecord;
    } catch {
      continue;
    }
    if (rec.op === "acquire") {
      bySeq.set(rec.seq, {
        seq: rec.seq,
        resource: rec.resource,
        detail: undefined,
        released: false,
        pid: rec.pid,
        ...(rec.start !== undefined ? { start: rec.start } : {}),
      });
    } else {
      const entry = bySeq.get(rec.seq);
      if (!entry) continue;
      if (rec.op === "ready") entry.detail = rec.detail;
      else entry.released = true;
    }
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Entries still held, in the order to release them: newest first. */
export function heldInUndoOrder(entries: LedgerEntry[]): LedgerEntry[] {
  return entries.filter((e) => !e.released).sort((a, b) => b.seq - a.seq);
}

export function describeResource(r: LedgerResource): string {
  switch (r.kind) {
    case "loop":
      return `loop device on ${r.file}${r.offset ? ` at offset ${r.offset}` : ""}`;
    case "mount":
      return `mount at ${r.target}`;
    case "partitions":
      return `partition nodes of ${r.device}`;
    case "lvm":
      return `volume group ${r.vg}`;
    case "chroot":
      return `processes in ${r.root}`;
    case "lock":
      return `lock ${r.file}`;
    case "runtime-object":
      return `${r.runtime} ${r.object} ${r.name}`;
    case "binfmt":
      return `binfmt_misc entry ${r.name}`;
  }
}

/**
 * The command that removes a runtime object: `rm -f` / `rmi -f` (buildah's `rm` has no
 * `-f`: it removes a working container whatever its state).
 */
export function runtimeObjectRemoveArgv(
  r: Extract<LedgerResource, { kind: "runtime-object" }>,
): string[] {
  if (r.object === "image") return [r.runtime, "rmi", "-f", r.name];
  return r.runtime === "buildah" ? ["buildah", "rm", r.name] : [r.runtime, "rm", "-f", r.name];
}

/**
 * Whether a failed removal only says the object is not there (removed already, or never
 * created): podman's "no container with name or ID", buildah's "container not known" /
 * "image not known", docker's "No such container" / "No such image".
 */
export function isNoSuchRuntimeObject(output: string): boolean {
  return /no such (container|image|object)|not known|no container with name or id|image not found/i.test(
    output,
  );
}
