export {
  type AccelRequest,
  forgetKvmProbe,
  type KvmStatus,
  kvmStatus,
  kvmWorks,
  resolveAccel,
} from "./accel.js";
export { type BootPlan, type BootPlanInput, planBoot } from "./boot-plan.js";
export {
  type BootProgress,
  type BootTestFailure,
  type BootTestOptions,
  type BootTestResult,
  bootTest,
  CONSOLE_TAIL_LINES,
} from "./boot-test.js";
export {
  type CommandResult,
  commandInput,
  DEFAULT_PROMPT,
  type LoginCredentials,
  logIn,
  READY_PROBE_INTERVAL_MS,
  runCommand,
  type ShellWaitOptions,
  waitForPrompt,
  waitForShell,
} from "./console-protocol.js";
export { cleanConsoleLine } from "./console-text.js";
export { checkResize, imageFormat, overlayCommands } from "./disk-overlay.js";
export { findOvmf, OVMF_DIR } from "./ovmf.js";
export {
  type Accel,
  type DirectKernel,
  KVM_PROBE_SUCCESS,
  kvmProbeArgv,
  type QemuMachine,
  qemuArgv,
} from "./qemu-argv.js";
export {
  type ConsoleCursor,
  type ConsoleMatcher,
  type ConsoleWaitResult,
  SerialConsole,
} from "./serial-console.js";
