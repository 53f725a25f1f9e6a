/** One artifact a build wrote. */
export interface BuildOutput {
  /** The output type as asked for (`qcow2`, `tar`, …). */
  type: string;
  /** Absolute path of the file (for `docker`, the image reference). */
  path: string;
  /** Size in bytes (0 for outputs that are not files). */
  bytes: number;
  /** Checksum files written beside it: algorithm → hex digest. */
  checksums: Partial<Record<"md5" | "sha256", string>>;
}

/** How long one step of the pipeline took. */
export interface PhaseTiming {
  phase: string;
  ms: number;
}

/**
 * Where a step is in the build's plan, for an `[index/total]` counter: `index` counts from 1
 * and includes the steps passed over; `total` is every planned step. Absent on the steps
 * run before the build is planned (resolving the elements).
 */
export interface PlanPosition {
  index?: number | undefined;
  total?: number | undefined;
}

/**
 * Progress of a build, in the order things happen. A `phase` is any step of the plan
 * (see `planBuild`): hook phases are named like their directories (`install.d`), the
 * builder's own steps by what they do (`size`, `block-device-create`, `copy`, …).
 */
export type BuildEvent =
  | ({ type: "phase-start"; phase: string; where: "outside" | "chroot" | "builder" } & PlanPosition)
  | { type: "phase-end"; phase: string; ms: number; ok: boolean }
  | { type: "script-start"; phase: string; script: string; element?: string | undefined }
  | {
      type: "script-end";
      phase: string;
      script: string;
      element?: string | undefined;
      ms: number;
      exitCode: number;
    }
  | {
      type: "log";
      line: string;
      stream: "stdout" | "stderr" | "builder";
      phase?: string | undefined;
      script?: string | undefined;
    }
  | { type: "output"; output: BuildOutput }
  /** A planned step that did not run: its result came from the stage cache. */
  | ({ type: "phase-skip"; phase: string; reason: string } & PlanPosition)
  | StageCacheEvent
  | { type: "warning"; message: string };

export type BuildEventListener = (event: BuildEvent) => void;

/**
 * What the stage cache did and why: `hit` (the stage was restored), `miss` (built, with
 * what changed since the last stored entry), `off` (not used, and why), `stored` /
 * `not-stored` (after building it).
 */
export interface StageCacheEvent {
  type: "stage-cache";
  stage: string;
  result: "hit" | "miss" | "off" | "stored" | "not-stored";
  reason: string;
  /** The stage's key, when one was computed. */
  key?: string | undefined;
  /** For a miss: the components that changed since the last entry of this element set. */
  changes?: string[] | undefined;
  /** Archive size, for hits and stores. */
  bytes?: number | undefined;
}
