export {
  BlockDevice,
  type BlockDeviceOptions,
  type CreateResult,
  createBlockDevice,
  defaultParams,
  type InitResult,
  type PlanOptions,
  planBlockDevice,
} from "./block-device.js";
export { probeCapabilities } from "./capabilities.js";
export { BLOCK_DEVICE_CONFIG_ERROR, blockDeviceConfigError } from "./config-error.js";
export { type ConfigSource, parseConfigText, readConfigSource } from "./config-source.js";
export { configTreeToGraph, type NormalisedConfig } from "./config-tree.js";
export { DEFAULT_BLOCK_DEVICE_CONFIG } from "./default-config.js";
export { renderFstab } from "./fstab-text.js";
export { GETVAL_SYMBOLS, type GetvalSymbol, getval } from "./getval.js";
export {
  type BlockDeviceGraph,
  type BuildGraphOptions,
  buildGraph,
  type PlannedEntry,
  toolsOf,
} from "./graph.js";
export { noDiskError, planLayouts } from "./layouts.js";
export type {
  BlockDevEntry,
  BlockDeviceNode,
  BlockDeviceParams,
  BlockDevicePlugin,
  BlockDeviceState,
  DiskGeometry,
  FilesysEntry,
  FstabEntry,
  GraphEntry,
  HostCapabilities,
  LayoutContext,
  MountEntry,
  NodeContext,
  PartitionTableLayout,
  PluginContext,
  PluginInput,
} from "./plugin.js";
export { type AnyBlockDevicePlugin, PluginRegistry } from "./plugin-registry.js";
export { effectiveLabel, type FilesystemInfo, filesystemInfo } from "./root-info.js";
export { defaultRootLabel, mergeRootfsParams, ROOT_MKFS_NAME } from "./rootfs-params.js";
export { joinPath } from "./schema-errors.js";
export { type ParsedSize, parseAbsoluteSize, parseRelativeSize } from "./size.js";
export { type CreatedRecord, emptyState, StateStore, stateDirOf } from "./state-store.js";
export { topologicalOrder } from "./topological-order.js";
