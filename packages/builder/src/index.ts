export { STOCK_BLOCK_DEVICE_LEVELS } from "./block-device-levels.js";
export { type BuildResult, type BuildRuntime, build } from "./build.js";
export type { BuildEvent, BuildEventListener, BuildOutput, PhaseTiming } from "./build-events.js";
export { BuildLogFile, eventLine, logTimestamp } from "./build-log.js";
export {
  type BuildOptions,
  type BuildOptionsInput,
  buildOptionsSchema,
  type ChecksumAlgorithm,
  isDiskImageType,
  parseBuildOptions,
  stripTypeSuffix,
} from "./build-options.js";
export {
  type BlockDeviceConfigSource,
  type BuildPlan,
  type BuildPlanInput,
  type PlannedStep,
  planBuild,
  type StepWhere,
} from "./build-plan.js";
export { cliWrapperScript } from "./cli-wrapper.js";
export { type BuildVariables, phaseEnvironment } from "./hook-env.js";
export { debianArch, hostArch } from "./host-arch.js";
export {
  computeImageSize,
  EFI_PADDING_KIB,
  type ImageSize,
  type ImageSizeInput,
  parseDuTotal,
} from "./image-size.js";
export { INSTALL_TYPE_FILE, installTypeEnvironment } from "./install-type.js";
export { unmountBelow } from "./mount-sweep.js";
export { PlanCursor, type StepContext } from "./step-context.js";
export {
  type BlockDeviceConfigChoice,
  blockDeviceStep,
  type CreatedImage,
  chooseBlockDeviceConfig,
} from "./steps/block-device-step.js";
export { type FinalisedTree, type FinaliseInput, finaliseStep } from "./steps/finalise-step.js";
export { type HookTree, hooksStep } from "./steps/hooks-step.js";
export { type OutputInput, outputStep } from "./steps/output-step.js";
export {
  type ResolvedBuildElements,
  type ResolveInput,
  resolveStep,
} from "./steps/resolve-step.js";
export { type RootInput, type RootTree, rootStep, rootWasDeployed } from "./steps/root-step.js";
export { type SizeInput, type SizeResult, sizeStep } from "./steps/size-step.js";
export { decideTmpfs, memTotalKb, type TmpfsDecision } from "./tmpfs-policy.js";
export { copyTree } from "./tree-copy.js";
export { type TidyReport, tidyTree } from "./tree-tidy.js";
export { closeWorkspace, openWorkspace, type Workspace } from "./workspace.js";
