export { isRoot, rootOnlyReason } from "./root.js";
export { hostSnapshot, expectHostClean, type HostSnapshot } from "./host-snapshot.js";
export { runCli, cliEntry } from "./run-cli.js";
