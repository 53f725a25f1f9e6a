export { type CleanupResult, cleanupBuildDir } from "./commands/cleanup.js";
export { type DoctorCheck, type DoctorProbes, runDoctor } from "./commands/doctor.js";
export { main } from "./main.js";
export { createProgram } from "./program.js";
