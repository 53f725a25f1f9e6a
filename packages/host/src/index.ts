export { DibError, isDibError, toDibError, type DibErrorOptions } from "./dib-error.js";
export { Host, formatArgv, type HostOptions, type RunOptions, type RunResult } from "./host.js";
export { TOOL_PACKAGES, findTool, requireTools, toolStatus, type ToolStatus } from "./tools.js";
export {
  LEDGER_FILE,
  Ledger,
  loopBackingFile,
  loopDevicesOf,
  type Held,
  type LoopOptions,
  type MountOptions,
  type UndoReport,
} from "./ledger.js";
export {
  describeResource,
  heldInUndoOrder,
  parseLedger,
  type LedgerEntry,
  type LedgerRecord,
  type LedgerResource,
} from "./ledger-file.js";
export {
  isAtOrBelow,
  isMountPoint,
  mountsBelow,
  parseMountinfo,
  readMountinfo,
  type MountEntry,
} from "./mountinfo.js";
export { safeRemove, type SafeRemoveOptions } from "./safe-remove.js";
export { installInterruptHandler } from "./interrupt.js";
