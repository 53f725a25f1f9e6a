import { constants } from "node:os";

/** A hook's exit status as words for an error message, with the signal that ended it if any. */
export interface ExitDescription {
  /** "failed with exit code 3", "was killed by SIGKILL (exit code 137) — out of memory?" */
  text: string;
  /** The signal, when the status is a shell's 128+N for a signal N. */
  signal?: NodeJS.Signals;
  /** What to look at, for the ones with a likely cause. */
  hint?: string;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/**
 * Reads a status the way a shell reports it: 128+N means the script (or the command it
 * ran last, under `set -e`) was ended by signal N. SIGKILL is what the kernel's OOM
 * killer sends, so that is named as the likely cause; a script that itself says
 * `exit 137` cannot be told apart, which is why the exit code is kept in the text.
 */
export function describeExit(code: number): ExitDescription {
  const signal = code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
  if (signal === undefined) return { text: `failed with exit code ${code}` };
  if (signal === "SIGKILL") {
    return {
      text: `was killed by SIGKILL (exit code ${code}) — out of memory?`,
      signal,
      hint: "the kernel's OOM killer ends processes with SIGKILL when memory runs out: `dmesg | grep -i oom` shows whether it did. Give the build more memory, or build on disk (--no-tmpfs) so the tmpfs does not take it",
    };
  }
  return { text: `was killed by ${signal} (exit code ${code})`, signal };
}
