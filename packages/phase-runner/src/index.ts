export {
  type Breakpoints,
  breakpointsFromEnv,
  hasBreakpoint,
  parseBreakpoints,
} from "./breakpoints.js";
export { CHROOT_PATH, chrootArgv } from "./chroot-command.js";
export {
  type ChrootFilesystems,
  devptsOptions,
  type MountChrootOptions,
  mountChrootFilesystems,
} from "./chroot-filesystems.js";
export {
  ENVIRONMENT_FILE_NAME,
  type EnvironmentFilesPlan,
  planEnvironmentFiles,
} from "./environment-files.js";
export {
  IN_TARGET_DIR,
  type PhasePlan,
  type PlanPhaseOptions,
  phaseName,
  planPhase,
  type ReadHookDirOptions,
  readHookDir,
} from "./hook-dir.js";
export type { HookDirEntry, SkippedEntry, SkipReason } from "./hook-dir-entry.js";
export {
  type BlockDeviceFacts,
  dibEnvDeclarations,
  type HookEnvironmentInput,
  hookEnvironment,
  imageElementArrayWords,
  imageElementYaml,
  type ResolvedElementRef,
} from "./hook-environment.js";
export {
  type DriverEvent,
  type DriverMarker,
  PHASE_DRIVER_NAME,
  PHASE_DRIVER_SCRIPT,
  parseDriverLine,
} from "./phase-driver.js";
export type { PhaseEvent, PhaseWhere } from "./phase-events.js";
export { formatProfilingTable, type ScriptTiming } from "./profiling-table.js";
export {
  type ResolvConfOutcome,
  restoreResolvConf,
  type UseHostResolvConfOptions,
  useHostResolvConf,
} from "./resolv-conf.js";
export { planRunParts, RUN_PARTS_NAME, type RunPartsPlan } from "./run-parts-plan.js";
export {
  type PhaseResult,
  type PhaseTarget,
  type RunPhaseOptions,
  runPhase,
  type ScriptElements,
} from "./run-phase.js";
export {
  type AllowServicesOutcome,
  allowServiceStarts,
  type BlockServicesOutcome,
  blockServiceStarts,
  POLICY_RC_D,
} from "./service-policy.js";
export { compareBytes, compareSortN } from "./sort-n.js";
