import { compareSortN } from "./sort-n.js";

/** How long one script of a phase ran. */
export interface ScriptTiming {
  script: string;
  /** The element the script came from, when the caller said. */
  element: string | undefined;
  seconds: number;
  exitCode: number;
}

const RULE = "-----------------------";

/**
 * The per-script timing table of a phase, in the layout DIB users know from their logs:
 * a PROFILING header, `Target: <phase>.d`, then `%-40s %10.3f` rows sorted by name.
 */
export function formatProfilingTable(target: string, timings: readonly ScriptTiming[]): string[] {
  const rows = [...timings]
    .sort((a, b) => compareSortN(a.script, b.script))
    .map((t) => `${t.script.padEnd(40)} ${t.seconds.toFixed(3).padStart(10)}`);
  return [
    `${RULE} PROFILING ${RULE}`,
    "",
    `Target: ${target}`,
    "",
    `${"Script".padEnd(40)} ${"Seconds".padStart(10)}`,
    `${"-".repeat(40)} ${"-".repeat(10)}`,
    "",
    ...rows,
    "",
    `${RULE.slice(2)} END PROFILING ${RULE.slice(2)}`,
  ];
}
