import { lstatSync, readdirSync, truncateSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { type Ledger, safeRemove } from "@dib/host";
import { unmountBelow } from "./mount-sweep.js";

export interface TidyReport {
  /** Entries removed from /tmp. */
  tmpEntries: number;
  /** Files under /var/log truncated to 0 bytes. */
  logsTruncated: number;
  /** `*.log` files removed below /root. */
  rootLogsRemoved: number;
}

/** Regular files below `dir`, not following symlinks and not crossing into other filesystems. */
function* regularFiles(dir: string, device: number): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (!stats || stats.dev !== device) continue;
    if (stats.isDirectory()) yield* regularFiles(path, device);
    else if (stats.isFile()) yield path;
  }
}

function deviceOf(path: string): number | undefined {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  return stats?.isDirectory() ? stats.dev : undefined;
}

/**
 * The end of DIB's finalise_base, after cleanup.d (§2.9): /tmp emptied (whatever is
 * mounted there unmounted first), every log under /var/log truncated, `*.log` files below
 * /root removed. The resolv.conf swap-back happens before this, in the phase runner.
 */
export async function tidyTree(root: string, ledger: Ledger): Promise<TidyReport> {
  const report: TidyReport = { tmpEntries: 0, logsTruncated: 0, rootLogsRemoved: 0 };
  const tmp = join(root, "tmp");
  if (deviceOf(tmp) !== undefined) {
    await unmountBelow(ledger, tmp);
    for (const name of readdirSync(tmp)) {
      safeRemove(join(tmp, name), { within: tmp });
      report.tmpEntries++;
    }
  }
  const varLog = join(root, "var/log");
  const logDevice = deviceOf(varLog);
  if (logDevice !== undefined) {
    for (const file of regularFiles(varLog, logDevice)) {
      truncateSync(file, 0);
      report.logsTruncated++;
    }
  }
  const rootHome = join(root, "root");
  const homeDevice = deviceOf(rootHome);
  if (homeDevice !== undefined) {
    for (const file of regularFiles(rootHome, homeDevice)) {
      if (file.endsWith(".log")) {
        unlinkSync(file);
        report.rootLogsRemoved++;
      }
    }
  }
  return report;
}
