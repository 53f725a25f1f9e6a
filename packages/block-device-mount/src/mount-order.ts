import { blockDeviceConfigError, type GraphEntry } from "@dib/block-device";

/**
 * Every `[mount point, mount node]` of the config, sorted by mount point as plain strings
 * (`/` < `/boot` < `/boot/efi` < `/var` < `none`), so that a parent is mounted before
 * what is mounted inside it (DIB's state.sorted_mount_points).
 */
export function sortedMountPoints(graph: readonly GraphEntry[]): [string, string][] {
  const points = graph.flatMap((entry) =>
    entry.mount
      ? [[String(entry.mount.mount_point), String(entry.mount.name)] as [string, string]]
      : [],
  );
  return points.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The mount node mounted just before `name`, which this one must come after. */
export function previousMount(graph: readonly GraphEntry[], name: string): string | undefined {
  const sorted = sortedMountPoints(graph);
  const at = sorted.findIndex(([, n]) => n === name);
  return at > 0 ? sorted[at - 1]?.[1] : undefined;
}

/** A mount point may appear once. */
export function checkMountPointUnique(
  mountPoint: string,
  graph: readonly GraphEntry[],
  index: number,
): void {
  const earlier = graph.slice(0, index).some((entry) => entry.mount?.mount_point === mountPoint);
  if (earlier) {
    throw blockDeviceConfigError(`Mount point [${mountPoint}] specified more than once`, {
      hint: "each mount point can hold one filesystem",
    });
  }
}

/**
 * Where a mount point is on the host by plain path arithmetic: `/` is `mountBase` itself.
 * Mounting resolves the path inside the mounted tree instead (`resolveInRoot`), so that a
 * symlink in the image cannot lead outside it.
 */
export function hostPathOf(mountBase: string, mountPoint: string): string {
  const relative = mountPoint.replace(/^\/+/, "");
  return relative === "" ? mountBase : `${mountBase.replace(/\/+$/, "")}/${relative}`;
}
