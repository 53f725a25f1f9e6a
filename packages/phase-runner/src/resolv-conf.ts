import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type Host, resolveInRoot } from "@dib/host";

const FALLBACK_RESOLV_CONF = "nameserver 8.8.8.8\n";

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

export interface UseHostResolvConfOptions {
  /** The host's resolver configuration (default /etc/resolv.conf, symlinks followed). */
  hostResolvConf?: string;
}

/**
 * Gives the chroot the host's name resolution for the build (spec §2.4 step 3): the
 * image's own etc/resolv.conf (a file or a symlink, even a dangling one) is moved to
 * etc/resolv.conf.ORIG and a copy of the host's takes its place, or `nameserver 8.8.8.8`
 * when the host has none. Safe to call again: an existing .ORIG is never overwritten.
 */
export function useHostResolvConf(root: string, options: UseHostResolvConfOptions = {}): void {
  // resolved inside the tree: an image whose /etc links out must not swap the host's file
  mkdirSync(root, { recursive: true });
  const etc = resolveInRoot(root, "etc", { create: true });
  const path = join(etc, "resolv.conf");
  const orig = join(etc, "resolv.conf.ORIG");
  if (lstatOrUndefined(orig) === undefined) {
    if (lstatOrUndefined(path) !== undefined) renameSync(path, orig);
  } else {
    rmSync(path, { force: true });
  }
  let content = FALLBACK_RESOLV_CONF;
  try {
    content = readFileSync(options.hostResolvConf ?? "/etc/resolv.conf", "utf8");
  } catch {
    // no resolver configuration on the host
  }
  writeFileSync(path, content, { mode: 0o644, flag: "wx" });
}

export type ResolvConfOutcome = "restored" | "removed" | "kept-final";

async function isImmutable(path: string, host: Host): Promise<boolean> {
  const result = await host.run(["lsattr", "-d", path], { allowFailure: true });
  if (result.exitCode !== 0) return false; // a filesystem without attributes
  const flags = result.stdout.trim().split(/\s+/)[0] ?? "";
  return flags.includes("i");
}

/**
 * Puts the image's resolver configuration back at the end of the build (spec §2.9,
 * finalise step 2). If etc/resolv.conf is now a symlink or immutable, an element made it
 * final: it stays and .ORIG goes. Otherwise our copy goes and .ORIG (which an element may
 * have rewritten with the final content) moves back. Returns what happened.
 */
export async function restoreResolvConf(
  root: string,
  options: { host: Host },
): Promise<ResolvConfOutcome> {
  const etc = resolveInRoot(root, "etc");
  const path = join(etc, "resolv.conf");
  const orig = join(etc, "resolv.conf.ORIG");
  const current = lstatOrUndefined(path);
  const final =
    current !== undefined &&
    (current.isSymbolicLink() || (current.isFile() && (await isImmutable(path, options.host))));
  if (final) {
    rmSync(orig, { force: true });
    return "kept-final";
  }
  rmSync(path, { force: true });
  if (lstatOrUndefined(orig) === undefined) return "removed";
  renameSync(orig, path);
  return "restored";
}
