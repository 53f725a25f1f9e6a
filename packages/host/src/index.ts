// DibError lives in @dib/errors (no dependencies); re-exported so existing imports keep working.
export { DibError, type DibErrorOptions, isDibError, toDibError } from "@dib/errors";
export {
  BINFMT_CONF_DIRS,
  BINFMT_DIR,
  type BinfmtDefinition,
  type BinfmtEntry,
  binfmtEnabled,
  binfmtHex,
  binfmtMounted,
  binfmtRegisterLine,
  entryMatches,
  entryServesChroots,
  type ForeignArchSupport,
  findQemuBinfmtDefinition,
  foreignArchSupport,
  parseBinfmtDefinition,
  parseBinfmtEntry,
  readBinfmtEntries,
} from "./binfmt.js";
export {
  formatArgv,
  Host,
  type HostOptions,
  type RunOptions,
  type RunResult,
  type StreamedCommand,
} from "./host.js";
export { installInterruptHandler } from "./interrupt.js";
export {
  type Held,
  LEDGER_FILE,
  Ledger,
  type LoopOptions,
  loopBackingFile,
  loopDevicesOf,
  type MountOptions,
  type UndoReport,
} from "./ledger.js";
export {
  CONTAINER_RUNTIMES,
  type ContainerRuntime,
  describeResource,
  heldInUndoOrder,
  isNoSuchRuntimeObject,
  type LedgerEntry,
  type LedgerRecord,
  type LedgerResource,
  parseLedger,
  RUNTIME_OBJECT_KINDS,
  type RuntimeObjectKind,
  runtimeObjectRemoveArgv,
} from "./ledger-file.js";
export {
  isAtOrBelow,
  isMountPoint,
  type MountEntry,
  mountsBelow,
  parseMountinfo,
  readMountinfo,
} from "./mountinfo.js";
export { type ResolveInRootOptions, resolveInRoot } from "./path-in-root.js";
export { type RecordedResponse, RecordingHost } from "./recording-host.js";
export { type SafeRemoveOptions, safeRemove } from "./safe-remove.js";
export { findTool, requireTools, TOOL_PACKAGES, type ToolStatus, toolStatus } from "./tools.js";
