export { fstabEntry } from "./fstab-entry.js";
export { fstabPlugin } from "./fstab-plugin.js";
export { type FstabConfig, fstabSchema } from "./schema.js";
