export { type LvPlacement, lvPlacements } from "./lv-placement.js";
export {
  lvcreateArgv,
  mapperDevice,
  metadataOnlyOptions,
  pvcreateArgv,
  vgcreateArgv,
} from "./lvm-commands.js";
export {
  type LvmLayout,
  type LvType,
  lvmLayout,
  type PlannedLv,
  type PlannedPv,
  type PlannedVg,
} from "./lvm-layout.js";
export { type LvmMode, type LvmRecord, lvmPlugin } from "./lvm-plugin.js";
export {
  type LvConfig,
  type LvmConfig,
  lvmSchema,
  lvSchema,
  type PvConfig,
  pvSchema,
  type VgConfig,
  vgSchema,
} from "./schema.js";
