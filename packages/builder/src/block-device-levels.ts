import type { AnyBlockDevicePlugin } from "@dib/block-device";
import { fstabPlugin } from "@dib/block-device-fstab";
import { localLoopPlugin } from "@dib/block-device-loop";
import { lvmPlugin } from "@dib/block-device-lvm";
import { mkfsPlugin } from "@dib/block-device-mkfs";
import { mountPlugin } from "@dib/block-device-mount";
import { partitioningPlugin } from "@dib/block-device-partitioning";

/**
 * The six stock block-device levels the builder wires in, in level order (the
 * block-device layer itself knows none). A library user can pass others in
 * BuildRuntime.blockDeviceLevels.
 */
export const STOCK_BLOCK_DEVICE_LEVELS: readonly AnyBlockDevicePlugin[] = [
  localLoopPlugin,
  partitioningPlugin,
  lvmPlugin,
  mkfsPlugin,
  mountPlugin,
  fstabPlugin,
];
