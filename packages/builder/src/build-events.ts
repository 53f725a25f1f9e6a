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
 * Progress of a build, in the order things happen. A `phase` is any step of the plan
 * (see `planBuild`): hook phases are named like their directories (`install.d`), the
 * builder's own steps by what they do (`size`, `block-device-create`, `copy`, …).
 */
export type BuildEvent =
  | { type: "phase-start"; phase: string; where: "outside" | "chroot" | "builder" }
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
  | { type: "warning"; message: string };

export type BuildEventListener = (event: BuildEvent) => void;
