export { applyDiskWrites } from "./disk-writes.js";
export { type GptPartition, type GptPlan, planGpt, sgdiskArgv } from "./gpt-plan.js";
export {
  checkMbrOrder,
  type Ebr,
  type MbrEntry,
  type MbrPartition,
  type MbrPlan,
  planMbr,
} from "./mbr-plan.js";
export { type DiskWrite, encodeChs, mbrWrites } from "./mbr-writer.js";
export {
  exposePartitions,
  type PartitionDeviceStrategy,
  type PartitionDevices,
  partitionNodeName,
} from "./partition-devices.js";
export {
  type PartitionLayout,
  type PlannedPartition,
  partitioningName,
  planPartitionLayout,
} from "./partition-layout.js";
export {
  type PartitionBlockDev,
  type PartitioningRecord,
  partitioningPlugin,
} from "./partitioning-plugin.js";
export {
  type PartitionConfig,
  type PartitioningConfig,
  partitioningSchema,
  partitionSchema,
} from "./schema.js";
