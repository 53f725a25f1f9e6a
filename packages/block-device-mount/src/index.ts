export {
  checkMountPointUnique,
  hostPathOf,
  previousMount,
  sortedMountPoints,
} from "./mount-order.js";
export { mountPlugin } from "./mount-plugin.js";
export { mountPointProblem, NO_MOUNT_POINT } from "./mount-point.js";
export { type MountConfig, mountSchema } from "./schema.js";
export { mcopyCommand, writeStagingInto } from "./vfat-staging.js";
