import { lstatSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveInRoot } from "@dib/host";

/** Debian's hook that invoke-rc.d asks before starting a service; exit 101 means "don't". */
export const POLICY_RC_D = "usr/sbin/policy-rc.d";

const SIGNATURE = "# dib: no service may start inside the build chroot (removed after the build)";

const POLICY_SCRIPT = `#!/bin/sh
${SIGNATURE}
exit 101
`;

function present(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Our own file, recognised by its signature: a plain file we wrote, never a symlink. */
function isOurs(path: string): boolean {
  try {
    return lstatSync(path).isFile() && readFileSync(path, "utf8").includes(SIGNATURE);
  } catch {
    return false;
  }
}

export type BlockServicesOutcome = "installed" | "already-present" | "no-usr-sbin";

/**
 * Keeps package installs from starting services inside the chroot: writes
 * usr/sbin/policy-rc.d (exit 101) unless one exists (an element such as dpkg may have
 * written its own; that one is left alone). A root without usr/sbin is left untouched.
 * Calling it again changes nothing.
 */
export function blockServiceStarts(root: string): BlockServicesOutcome {
  // usr/sbin resolved inside the tree: a link there never leads the write onto the host
  const sbin = resolveInRoot(root, "usr/sbin");
  const path = join(sbin, "policy-rc.d");
  if (present(path)) return "already-present";
  if (!statSync(sbin, { throwIfNoEntry: false })?.isDirectory()) {
    return "no-usr-sbin";
  }
  writeFileSync(path, POLICY_SCRIPT, { mode: 0o755, flag: "wx" });
  return "installed";
}

export type AllowServicesOutcome = "removed" | "not-ours" | "absent";

/**
 * Removes our policy-rc.d at the end of the build. One that an element wrote (or wrote
 * over ours) stays, for that element to remove.
 */
export function allowServiceStarts(root: string): AllowServicesOutcome {
  const path = join(resolveInRoot(root, "usr/sbin"), "policy-rc.d");
  if (!present(path)) return "absent";
  if (!isOurs(path)) return "not-ours";
  rmSync(path, { force: true });
  return "removed";
}
