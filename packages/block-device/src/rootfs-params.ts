import type { BlockDeviceParams, GraphEntry } from "./plugin.js";

/** The node the legacy FS_TYPE / ROOT_LABEL / MKFS_OPTS globals apply to. */
export const ROOT_MKFS_NAME = "mkfs_root";

/** The root label when neither ROOT_LABEL nor the config names one (§5.9). */
export function defaultRootLabel(fsType: string | undefined): string {
  return fsType === "xfs" ? "img-rootfs" : "cloudimg-rootfs";
}

/**
 * DIB's `_merge_rootfs_params`: the mkfs entry named exactly `mkfs_root` takes `type`,
 * `opts` and `label` from the build's globals wherever it does not set them itself. A
 * label the config gives wins over ROOT_LABEL (that is what DIB does).
 */
export function mergeRootfsParams(
  entries: readonly GraphEntry[],
  params: BlockDeviceParams,
): GraphEntry[] {
  return entries.map((entry) => {
    const mkfs = entry.mkfs;
    if (!mkfs || mkfs.name !== ROOT_MKFS_NAME) return entry;
    const merged: Record<string, unknown> = { ...mkfs };
    if (merged.type === undefined) merged.type = params.rootFsType;
    if (merged.opts === undefined && params.rootFsOpts) merged.opts = params.rootFsOpts;
    if (merged.label === undefined) {
      merged.label = params.rootLabel || defaultRootLabel(merged.type as string | undefined);
    }
    return { ...entry, mkfs: merged };
  });
}
