export {
  checkLabelLength,
  checkLabelUnique,
  LABEL_MAX_LENGTH,
  labelOf,
  labelsOf,
} from "./labels.js";
export { fatVolumeId, mkfsCommand, mkfsTool, splitOpts } from "./mkfs-command.js";
export { mkfsPlugin } from "./mkfs-plugin.js";
export { type MkfsConfig, mkfsSchema } from "./schema.js";
