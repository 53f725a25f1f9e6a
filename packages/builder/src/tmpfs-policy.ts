/** Whether the build directory goes on a tmpfs (§2.3), and why not when it does not. */
export type TmpfsDecision = { use: true } | { use: false; warning?: string };

/** MemTotal in kB from the text of /proc/meminfo (undefined when absent). */
export function memTotalKb(meminfo: string): number | undefined {
  const match = /^MemTotal:\s+(\d+)\s+kB/m.exec(meminfo);
  return match ? Number(match[1]) : undefined;
}

/**
 * DIB's tmpfs_check: only when tmpfs is not turned off and the machine has at least twice
 * DIB_MIN_TMPFS GiB of RAM; a RAM shortage is worth a warning, an explicit opt-out is not.
 */
export function decideTmpfs(input: {
  noTmpfs: boolean;
  minTmpfsGb: number;
  meminfo: string | undefined;
  tmpDir: string;
}): TmpfsDecision {
  if (input.noTmpfs) return { use: false };
  const total = input.meminfo === undefined ? undefined : memTotalKb(input.meminfo);
  if (total === undefined) return { use: false };
  const needKb = 2 * input.minTmpfsGb * 1024 * 1024;
  if (total >= needKb) return { use: true };
  return {
    use: false,
    warning: `Not enough RAM to use tmpfs for build. Using ${input.tmpDir}. (${total} < ${2 * input.minTmpfsGb}G)`,
  };
}
