import { readFileSync } from "node:fs";

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/PID/stat), or
 * undefined when it is gone. A pid alone names a process only while it runs: the kernel
 * hands the number out again, so a pid with its start time is what identifies a build
 * that may have ended long ago.
 */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True while the process `pid` runs and is the one that started at `start` (when known):
 * a pid reused by an unrelated process does not count.
 */
export function isProcessRunning(pid: number, start?: number): boolean {
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return start === undefined || now === start;
}
