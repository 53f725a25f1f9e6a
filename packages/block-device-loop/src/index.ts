export { blockSizeOf, imageFileOf, imageSizeOf, localLoopPlugin } from "./local-loop-plugin.js";
export { type LocalLoopConfig, localLoopSchema } from "./schema.js";
