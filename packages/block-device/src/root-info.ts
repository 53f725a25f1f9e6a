import type { GraphEntry } from "./plugin.js";

/** What the rest of the build needs to know about the filesystems, read from the config. */
export interface FilesystemInfo {
  /** DIB_ROOT_LABEL: the label of the filesystem mounted at `/` ('' without one). */
  rootLabel: string;
  /** DIB_ROOT_FSTYPE: the type of the filesystem mounted at `/` ('' without one). */
  rootFsType: string;
  /** DIB_BOOT_LABEL: the label of the filesystem mounted at `/boot`, or ''. */
  bootLabel: string;
  /** DIB_MOUNTPOINTS: every mount point, in config order. */
  mountPoints: string[];
}

interface MkfsLike {
  name?: unknown;
  type?: unknown;
  label?: unknown;
}

function entriesOf(config: readonly GraphEntry[], key: string): Record<string, unknown>[] {
  return config.flatMap((e) => (e[key] ? [e[key]] : []));
}

/** The label mkfs gives a filesystem: its `label`, else its name; FAT labels are upper case. */
export function effectiveLabel(mkfs: MkfsLike): string {
  const label = String(mkfs.label ?? mkfs.name ?? "");
  return mkfs.type === "vfat" || mkfs.type === "fat" ? label.toUpperCase() : label;
}

function filesystemAt(config: readonly GraphEntry[], mountPoint: string): MkfsLike | undefined {
  const mount = entriesOf(config, "mount").find((m) => m.mount_point === mountPoint);
  if (!mount) return undefined;
  return entriesOf(config, "mkfs").find((m) => m.name === mount.base);
}

/**
 * Root and boot labels, root type and mount points (DIB's config-based getval symbols).
 * Unlike DIB, a root filesystem without an explicit label reports the label mkfs really
 * gives it (its name) instead of failing.
 */
export function filesystemInfo(config: readonly GraphEntry[]): FilesystemInfo {
  const root = filesystemAt(config, "/");
  const boot = filesystemAt(config, "/boot");
  return {
    rootLabel: root ? effectiveLabel(root) : "",
    rootFsType: root?.type === undefined ? "" : String(root.type),
    bootLabel: boot ? effectiveLabel(boot) : "",
    mountPoints: entriesOf(config, "mount").map((m) => String(m.mount_point)),
  };
}
