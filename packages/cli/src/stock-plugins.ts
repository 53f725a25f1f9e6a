import type { AnyBlockDevicePlugin } from "@dib/block-device";
import { fstabPlugin } from "@dib/block-device-fstab";
import { localLoopPlugin } from "@dib/block-device-loop";
import { lvmPlugin } from "@dib/block-device-lvm";
import { mkfsPlugin } from "@dib/block-device-mkfs";
import { mountPlugin } from "@dib/block-device-mount";
import { partitioningPlugin } from "@dib/block-device-partitioning";

/** The six block-device levels DIB has, in level order. */
export const stockPlugins: readonly AnyBlockDevicePlugin[] = [
  localLoopPlugin,
  partitioningPlugin,
  lvmPlugin,
  mkfsPlugin,
  mountPlugin,
  fstabPlugin,
];
