export { main } from "./main.js";
export { createProgram } from "./program.js";
export { cleanupBuildDir, type CleanupResult } from "./commands/cleanup.js";
export { runDoctor, type DoctorCheck, type DoctorProbes } from "./commands/doctor.js";
