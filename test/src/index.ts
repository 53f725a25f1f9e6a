export * as blockDeviceConformance from "./block-device-conformance.js";
export { minbaseTarball, seedBootstrapCache } from "./bootstrap-seed.js";
export { expectHostClean, type HostSnapshot, hostSnapshot } from "./host-snapshot.js";
export { testImageCache } from "./image-cache.js";
export { isRoot, rootOnlyReason } from "./root.js";
export { cliEntry, runCli } from "./run-cli.js";
