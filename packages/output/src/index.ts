export {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumFileName,
  checksumLine,
  type Digests,
  hashFile,
  parseChecksumSetting,
} from "./checksum.js";
export type { ConverterContext, OutputConverter, Produced, TarSink } from "./converter.js";
export { CONVERTERS } from "./converters.js";
export { describeOutputPlan } from "./describe-plan.js";
export {
  type DockerReference,
  type OciPlatform,
  ociPlatform,
  parseDockerTarget,
} from "./docker-reference.js";
export { formatBytes } from "./format-bytes.js";
export {
  type DuEntry,
  formatImageUsage,
  humanKiB,
  imageUsageReport,
  parseDu,
} from "./image-usage.js";
export { freeBytes, isNoSpace, outputSpaceError } from "./no-space.js";
export { datedName, imageTimestamp, moveOldImageAside, type Renamed } from "./old-image.js";
export type { OutputResult } from "./output-result.js";
export {
  checkOutputSpace,
  estimateOutputBytes,
  type OutputSpaceCheck,
  type OutputSpaceInput,
  outputSpaceWarning,
} from "./output-space.js";
export {
  isOutputType,
  KNOWN_OUTPUT_TYPES,
  OUTPUT_TYPES,
  type OutputInput,
  type OutputType,
  parseOutputTypes,
} from "./output-types.js";
export {
  type OutputPlan,
  type OutputStage,
  type OutputStep,
  type PlanOutputsOptions,
  planOutputs,
  planSteps,
  type QemuImgType,
} from "./plan.js";
export { type OutputHostFacts, probeOutputHost } from "./probe.js";
export {
  type TreeExclusion,
  type TreeExclusionOptions,
  treeExclusions,
} from "./tree-exclusions.js";
export { treeTarArgv } from "./tree-tar.js";
export { type WriteOutputsOptions, writeOutputs } from "./write-outputs.js";
