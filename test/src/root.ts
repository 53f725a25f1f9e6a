/** True when the tests run as root and can touch loop devices and mounts. */
export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Why a root-only suite was skipped, shown in its name so the skip is visible. */
export const rootOnlyReason = isRoot ? "" : " (skipped: needs root for loop devices and mounts)";
