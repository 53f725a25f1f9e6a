import type { SkipReason } from "./hook-dir-entry.js";
import type { ScriptTiming } from "./profiling-table.js";

export type PhaseWhere = "outside" | "chroot";

/** What runPhase reports while it works, in order. `elapsed` is seconds since the phase started. */
export type PhaseEvent =
  | {
      type: "phase-start";
      phase: string;
      where: PhaseWhere;
      /** Script names in run order. */
      scripts: string[];
      environmentFiles: string[];
    }
  | {
      /** An entry that is not run or sourced (warn: DIB would skip it silently). */
      type: "skipped";
      phase: string;
      dir: string;
      name: string;
      reason: SkipReason;
      message: string;
      warn: boolean;
    }
  | { type: "environment-file"; phase: string; file: string; element: string | undefined }
  | {
      type: "script-start";
      phase: string;
      script: string;
      element: string | undefined;
      /** 1-based position and count, for "3/12". */
      index: number;
      total: number;
      elapsed: number;
    }
  | {
      type: "script-end";
      phase: string;
      script: string;
      element: string | undefined;
      exitCode: number;
      seconds: number;
      elapsed: number;
    }
  | {
      /** A line a script (or an environment file) printed; `script` is best effort across streams. */
      type: "output";
      phase: string;
      script: string | undefined;
      stream: "stdout" | "stderr";
      line: string;
    }
  | { type: "breakpoint"; phase: string; point: string; where: PhaseWhere }
  | { type: "phase-end"; phase: string; ok: boolean; seconds: number; timings: ScriptTiming[] };
