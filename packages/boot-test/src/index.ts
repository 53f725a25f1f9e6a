export {
  type AccelRequest,
  forgetKvmProbe,
  KVM_STATUS_TTL_MS,
  type KvmStatus,
  type KvmStatusOptions,
  kvmStatus,
  kvmStatusFrom,
  kvmWorks,
  rememberKvmStatus,
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
  DEFAULT_TIMEOUT_MS,
  FOREIGN_TIMEOUT_MS,
  KVM_STALL_TIMEOUT_MS,
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
export {
  checkAccel,
  findUefiFirmware,
  GUEST_ARCHES,
  GUEST_MACHINES,
  type GuestArch,
  type GuestMachine,
  hostGuestArch,
  isForeignGuest,
} from "./guest-arch.js";
export {
  bootTestCacheDir,
  type DebianGuestParts,
  debianGuestParts,
  type GuestKernel,
  hostKernel,
  probeKernel,
} from "./guest-kernel.js";
export { archOfEfiListing, findEsp, imageArch } from "./image-arch.js";
export {
  KVM_PROBE_TIMEOUT_MS,
  type KvmProbeOptions,
  type KvmProbeOutcome,
  probeKvm,
} from "./kvm-probe.js";
export {
  type CpioEntry,
  cpioNewc,
  PROBE_MARKER,
  probeInit,
  probeInitramfs,
} from "./probe-initramfs.js";
export {
  type Accel,
  type DirectKernel,
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
