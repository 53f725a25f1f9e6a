import { DibError } from "@dib/host";
import type { BlockDeviceGraph } from "./graph.js";
import type { BlockDeviceParams, DiskGeometry, PartitionTableLayout } from "./plugin.js";

/**
 * The partition tables a graph makes, planned without a host: every entry whose level has
 * a `layout` hook, on the disks the levels with a `disk` hook provide (local_loop: its
 * `size`, else the image size). A table on a node that is not such a disk is an error.
 */
export function planLayouts(
  graph: BlockDeviceGraph,
  params: BlockDeviceParams,
): PartitionTableLayout[] {
  const disks = new Map<string, DiskGeometry>();
  for (const entry of graph.entries) {
    const disk = entry.plugin.disk?.(entry.config, params);
    if (disk) disks.set(disk.name, { size: disk.size, blockSize: disk.blockSize });
  }
  const layouts: PartitionTableLayout[] = [];
  for (const entry of graph.entries) {
    if (!entry.plugin.layout) continue;
    const layout = entry.plugin.layout(entry.config, {
      graph: graph.config,
      params,
      origin: entry.origin,
      disk: (name) => disks.get(name),
    });
    layouts.push(layout);
  }
  return layouts;
}

/** The error a `layout` hook throws when its base is no disk it can plan on. */
export function noDiskError(origin: string, base: string): DibError {
  return new DibError("DIB_BLOCK_DEVICE_CONFIG", `${origin}: ${base} is not a local_loop`, {
    hint: "layout plans partition tables on local_loop disks only",
  });
}
