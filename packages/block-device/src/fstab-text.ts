import type { BlockDeviceState } from "./plugin.js";

/** fstab(5) fields cannot hold blanks: they are written as octal escapes. */
function escapeField(field: string): string {
  return field.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/**
 * The image's /etc/fstab from the state, in mount order: one
 * `LABEL=<label> <mount point> <type> <options> <dump> <passno>` line per mount with an
 * fstab entry. Unlike DIB, a label or mount point with a space is escaped (`\040`).
 */
export function renderFstab(state: BlockDeviceState): string {
  const lines: string[] = [];
  for (const mountPoint of state.mount_order ?? []) {
    const mount = state.mount?.[mountPoint];
    if (!mount) continue;
    const fstab = state.fstab?.[mount.name];
    const fs = state.filesys?.[mount.base];
    if (!fstab || !fs) continue;
    const source = fs.label ? `LABEL=${escapeField(fs.label)}` : `UUID=${fs.uuid}`;
    lines.push(
      `${source} ${escapeField(mountPoint)} ${fs.fstype} ${fstab.options} ${fstab["dump-freq"]} ${fstab["fsck-passno"]}`,
    );
  }
  return lines.map((l) => `${l}\n`).join("");
}
