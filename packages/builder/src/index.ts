export { STOCK_BLOCK_DEVICE_LEVELS } from "./block-device-levels.js";
export { type BuildResult, type BuildRuntime, build } from "./build.js";
export type {
  BuildEvent,
  BuildEventListener,
  BuildOutput,
  PhaseTiming,
  PlanPosition,
  StageCacheEvent,
} from "./build-events.js";
export { logTimestamp } from "./build-log.js";
export type { BuildOptions, BuildOptionsInput, ChecksumAlgorithm } from "./build-options.js";
export type { BuildPlan, PlannedStep, StepWhere } from "./build-plan.js";
