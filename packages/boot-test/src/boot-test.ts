import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DibError, type Host, isDibError, requireTools } from "@dib/host";
import { type AccelRequest, rememberKvmStatus, resolveAccel } from "./accel.js";
import { type BootPlan, planBoot } from "./boot-plan.js";
import {
  type CommandResult,
  DEFAULT_PROMPT,
  type LoginCredentials,
  logIn,
  runCommand,
  waitForPrompt,
  waitForShell,
} from "./console-protocol.js";
import { checkResize, imageFormat } from "./disk-overlay.js";
import {
  checkAccel,
  findUefiFirmware,
  GUEST_MACHINES,
  type GuestArch,
  hostGuestArch,
  isForeignGuest,
} from "./guest-arch.js";
import { imageArch } from "./image-arch.js";
import type { Accel, DirectKernel } from "./qemu-argv.js";
import { SerialConsole } from "./serial-console.js";

export interface BootTestOptions {
  host: Host;
  /** The disk image to boot (any format qemu-img knows). It is never written to. */
  image?: string;
  /**
   * Boot this kernel (and initrd) directly instead of, or as well as, a disk. Without an
   * `append`, the command line puts the console on the architecture's first serial port.
   */
  kernel?: DirectKernel;
  /** Boot this ISO from a CD-ROM drive (the iso element's NAME.iso); never written to. */
  cdrom?: string;
  /** Boot through OVMF (UEFI) instead of SeaBIOS (arm64 guests always boot through UEFI). */
  uefi?: boolean;
  /**
   * The guest's architecture. Unset: read from the image's EFI system partition (the UEFI
   * loader on it), else the host's. A foreign architecture runs under TCG.
   */
  arch?: GuestArch;
  /** What counts as booted (default: a getty `login:` prompt). */
  expect?: RegExp | string;
  /** Log in on the serial console after the prompt. */
  login?: LoginCredentials;
  /** Shell commands to run after logging in, one after the other. */
  commands?: string[];
  /**
   * For the whole test: boot, login and commands (default 300 s under KVM, 600 s under
   * TCG, which boots a Debian image in one to two minutes on a quiet host and several on a
   * loaded one).
   */
  timeoutMs?: number;
  accel?: AccelRequest;
  /**
   * With `accel: "auto"` and KVM chosen: how long the guest may print nothing new on its
   * console before the prompt until it is restarted once under TCG (default 60 s).
   */
  kvmStallTimeoutMs?: number;
  /** Where the KVM probe keeps its guest and its answer (default: bootTestCacheDir()). */
  cacheDir?: string;
  memoryMiB?: number;
  cpus?: number;
  /** Boot a temporary copy-on-write overlay grown to this size (`20G`, `+5G`). */
  resize?: string;
  /** Where the UEFI firmware is (default /usr/share/OVMF, /usr/share/AAVMF for arm64). */
  firmwareDir?: string;
  qemu?: string;
  /**
   * Where the boot's scratch directory (overlay, UEFI variables, console log) is made and
   * removed again (default: the system's temporary directory).
   */
  tmpDir?: string;
  /** Every console line as it arrives, cleaned of terminal escapes. */
  onConsoleLine?: (line: string) => void;
  /** Milestones, for a progress display: QEMU started, the prompt came, a command starts. */
  onProgress?: (event: BootProgress) => void;
}

export type BootProgress =
  | { kind: "started"; accel: Accel; firmware: "bios" | "uefi"; arch: GuestArch; qemu: string[] }
  /** The KVM guest made no progress (or QEMU could not run it): it is restarted under TCG. */
  | { kind: "accel-fallback"; from: "kvm"; to: "tcg"; reason: string }
  | { kind: "prompt"; secondsToPrompt: number }
  | { kind: "logged-in"; user: string }
  | { kind: "command"; index: number; command: string };

export interface BootTestFailure {
  code: string;
  message: string;
  hint?: string;
}

export interface BootTestResult {
  ok: boolean;
  accel: Accel;
  firmware: "bios" | "uefi";
  arch: GuestArch;
  /** From starting QEMU to the prompt; null when it never came. */
  secondsToPrompt: number | null;
  commandResults: CommandResult[];
  /** The last console lines (40), the useful part when something went wrong. */
  consoleTail: string[];
  failure?: BootTestFailure;
  /** Set when the boot started under KVM, made no progress, and was restarted under TCG. */
  accelFallback?: { from: "kvm"; reason: string };
}

export const CONSOLE_TAIL_LINES = 40;
export const DEFAULT_TIMEOUT_MS: Record<Accel, number> = { kvm: 300_000, tcg: 600_000 };
/**
 * A guest of another architecture is emulated instruction by instruction: an arm64 Debian
 * image takes several minutes to its prompt on a 2-core amd64 host.
 */
export const FOREIGN_TIMEOUT_MS = 1_200_000;
/**
 * A KVM guest prints within seconds (firmware, GRUB, the kernel, systemd): a minute of
 * silence before the prompt means KVM hangs this guest, as it does on hosts where nested
 * KVM runs firmware but not Linux.
 */
export const KVM_STALL_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 15_000;
const QEMU_EXIT_GRACE_MS = 5_000;

function toRegExp(expect: RegExp | string | undefined): RegExp {
  if (expect === undefined) return DEFAULT_PROMPT;
  if (expect instanceof RegExp) return expect;
  try {
    return new RegExp(expect);
  } catch (error) {
    throw new DibError("DIB_BAD_ARGUMENT", `--expect ${expect} is not a regular expression`, {
      hint: (error as Error).message,
    });
  }
}

function checkOptions(options: BootTestOptions): void {
  if (!options.image && !options.kernel && !options.cdrom) {
    throw new DibError("DIB_BAD_ARGUMENT", "boot-test needs an image, a kernel or a CD to boot", {
      hint: "pass IMAGE, --kernel FILE (with --initrd) for a ramdisk, or --cdrom FILE.iso",
    });
  }
  if (options.cdrom && !existsSync(options.cdrom)) {
    throw new DibError("DIB_BAD_ARGUMENT", `${options.cdrom} does not exist`, {
      file: options.cdrom,
    });
  }
  if (options.image && !existsSync(options.image)) {
    throw new DibError("DIB_BAD_ARGUMENT", `${options.image} does not exist`, {
      file: options.image,
    });
  }
  if ((options.commands?.length ?? 0) > 0 && !options.login && options.expect === undefined) {
    throw new DibError("DIB_BAD_ARGUMENT", "commands need a shell on the console", {
      hint: "pass --login user:password, or --expect with a pattern matching a shell prompt (autologin)",
    });
  }
  if (options.resize !== undefined) {
    if (!options.image) throw new DibError("DIB_BAD_ARGUMENT", "--resize needs a disk image");
    checkResize(options.resize);
  }
}

/**
 * Boots an image in QEMU (always `-snapshot`: the image is never modified), waits for the
 * login prompt, optionally logs in over the serial console and runs commands. A guest that
 * does not get there is a result with `ok: false`, not an exception; bad options, missing
 * tools and an unusable `accel: "kvm"` throw a DibError.
 */
export async function bootTest(options: BootTestOptions): Promise<BootTestResult> {
  const { host } = options;
  checkOptions(options);
  const prompt = toRegExp(options.expect);
  if (options.image) requireTools(["qemu-img"], "to boot-test an image");
  const format = options.image ? (await imageFormat(host, options.image)).format : undefined;
  const arch =
    options.arch ??
    (options.image && format
      ? await imageArch(host, options.image, format, options.tmpDir)
      : undefined) ??
    hostGuestArch() ??
    "amd64";
  const qemuBinary = options.qemu ?? GUEST_MACHINES[arch].qemu;
  requireTools([qemuBinary], `to boot-test an ${arch} image`);
  // arm64 has no BIOS: its guests boot through UEFI firmware whatever was asked.
  const uefi = options.uefi === true || GUEST_MACHINES[arch].machine.bios === undefined;
  const uefiFirmware = uefi ? findUefiFirmware(arch, options.firmwareDir) : undefined;
  const request = options.accel ?? "auto";
  checkAccel(arch, request);
  const foreign = isForeignGuest(arch);
  // KVM runs only the host's own architecture: a foreign guest goes straight to TCG.
  const accel = foreign
    ? "tcg"
    : await resolveAccel(request, host, qemuBinary, {
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      });
  const run = {
    ...options,
    uefi,
    arch,
    ...(foreign && options.timeoutMs === undefined ? { timeoutMs: FOREIGN_TIMEOUT_MS } : {}),
  };

  const workDir = mkdtempSync(join(options.tmpDir ?? tmpdir(), "dib-boot-"));
  const removeWorkDir = () => rmSync(workDir, { recursive: true, force: true });
  // If dib is interrupted, the interrupt handler ends QEMU; this takes the files with it.
  process.once("exit", removeWorkDir);
  const plan = (withAccel: Accel) =>
    planBoot({
      image: options.image,
      imageFormat: format,
      ...(options.kernel
        ? {
            kernel: {
              ...options.kernel,
              append:
                options.kernel.append ?? `console=${GUEST_MACHINES[arch].serialConsole},115200`,
            },
          }
        : {}),
      ...(options.cdrom ? { cdrom: options.cdrom } : {}),
      accel: withAccel,
      memoryMiB: options.memoryMiB ?? 1024,
      cpus: options.cpus ?? 1,
      resize: options.resize,
      arch,
      ...(uefiFirmware ? { uefiFirmware } : {}),
      workDir,
      qemu: qemuBinary,
    });
  try {
    // Only a choice dib made is second-guessed: `--accel kvm` is what the user asked for.
    const watchKvm = request === "auto" && accel === "kvm";
    const first = await runPlan(plan(accel), run, prompt, accel, {
      stallMs: watchKvm ? (options.kvmStallTimeoutMs ?? KVM_STALL_TIMEOUT_MS) : undefined,
    });
    if (first.stalled === undefined) return first.result;
    const reason = first.stalled;
    host.debug(`boot-test: ${reason}; restarting the guest under TCG`);
    options.onProgress?.({ kind: "accel-fallback", from: "kvm", to: "tcg", reason });
    // The restart gets the whole timeout: the time lost went to an accelerator that hung.
    const second = await runPlan(plan("tcg"), run, prompt, "tcg", {});
    // The same guest talks under TCG: KVM is what hung it, whatever the probe said, and
    // later boots go straight to TCG. (A guest silent under TCG too is just broken.)
    if (second.result.consoleTail.length > 0) {
      rememberKvmStatus({ usable: false, reason }, qemuBinary, {
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      });
    }
    return { ...second.result, accelFallback: { from: "kvm", reason } };
  } finally {
    process.removeListener("exit", removeWorkDir);
    removeWorkDir();
  }
}

interface Attempt {
  result: BootTestResult;
  /** Why the KVM guest was given up on, when the watchdog fired: restart under TCG. */
  stalled?: string;
}

async function runPlan(
  plan: BootPlan,
  options: BootTestOptions & { arch: GuestArch },
  prompt: RegExp,
  accel: Accel,
  watchdog: { stallMs?: number | undefined },
): Promise<Attempt> {
  const { host } = options;
  for (const argv of plan.prepare) await host.run(argv);
  for (const copy of plan.copies) copyFileSync(copy.from, copy.to);

  let socket: Socket | undefined;
  const console = new SerialConsole((text) => socket?.write(text), options.onConsoleLine);
  const server = await listen(plan.consoleSocket, (connection) => {
    if (socket) {
      connection.destroy();
      return;
    }
    socket = connection;
    connection.setEncoding("utf8");
    connection.on("data", (chunk: string) => {
      lastOutputAt = Date.now();
      console.push(chunk);
    });
    // The socket closes when QEMU exits; give the exit (and QEMU's error) a moment to be
    // seen, so the failure says why rather than just that the console went away.
    connection.on("close", () => {
      void Promise.race([child, delay(2000)]).then(() =>
        console.close(qemuExit ?? "the serial console closed"),
      );
    });
    connection.on("error", () => {});
  });

  const results: CommandResult[] = [];
  let secondsToPrompt: number | null = null;
  let lastOutputAt: number | undefined;
  let stalled: string | undefined;
  const firmware = options.uefi ? "uefi" : "bios";
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS[accel]);
  const child = host.spawn(plan.qemu);
  options.onProgress?.({ kind: "started", accel, firmware, arch: options.arch, qemu: plan.qemu });
  let qemuStderr = "";
  child.stderr?.on("data", (chunk: Buffer | string) => {
    qemuStderr += chunk.toString();
  });
  let qemuExit: string | undefined;
  void child.then((r) => {
    qemuExit = `QEMU exited (${r.signal ?? `code ${r.exitCode}`})${qemuStderr.trim() ? `: ${qemuStderr.trim()}` : ""}`;
    // QEMU refusing KVM (it worked for the probe; something changed since) is the same
    // verdict as a hang: the watchdog restarts the guest under TCG.
    if (
      watchdog.stallMs !== undefined &&
      secondsToPrompt === null &&
      stalled === undefined &&
      /\bkvm\b/i.test(qemuStderr)
    ) {
      stalled = `QEMU could not run the KVM guest: ${lastLine(qemuStderr)}`;
    }
    console.close(qemuExit);
  });
  // The watchdog: before the prompt, a KVM guest that prints nothing new for stallMs is
  // given up on. After the prompt a quiet console is normal (a command that takes a while).
  const stallMs = watchdog.stallMs;
  const watch =
    stallMs === undefined
      ? undefined
      : setInterval(() => {
          if (secondsToPrompt !== null || stalled !== undefined) return;
          const quietFor = Date.now() - (lastOutputAt ?? started);
          if (quietFor < stallMs) return;
          const seconds = Math.round(quietFor / 1000);
          const last = console.tail(1)[0];
          stalled =
            last === undefined
              ? `the KVM guest printed nothing in ${seconds} s`
              : `the KVM guest made no console progress for ${seconds} s after "${last.trim()}"`;
          console.close(stalled);
        }, 250);

  const finish = (failure?: BootTestFailure): BootTestResult => {
    const failed = results.filter((r) => r.exitCode !== 0);
    const why: BootTestFailure | undefined =
      failure ??
      (failed.length > 0
        ? {
            code: "DIB_BOOT_COMMAND_FAILED",
            message: failed.map((r) => `\`${r.command}\` exited ${r.exitCode}`).join("; "),
          }
        : undefined);
    return {
      ok: why === undefined,
      accel,
      firmware,
      arch: options.arch,
      secondsToPrompt,
      commandResults: results,
      consoleTail: console.tail(CONSOLE_TAIL_LINES),
      ...(why ? { failure: why } : {}),
    };
  };

  try {
    await waitForConnection(
      () => socket !== undefined,
      () => qemuExit,
      CONNECT_TIMEOUT_MS,
    );
    const reached = await waitForPrompt(console, prompt, deadline);
    secondsToPrompt = Math.round((reached.at - started) / 100) / 10;
    options.onProgress?.({ kind: "prompt", secondsToPrompt });
    const commands = options.commands ?? [];
    let cursor = reached.cursor;
    if (options.login) {
      cursor = await logIn(console, options.login, cursor, deadline);
      options.onProgress?.({ kind: "logged-in", user: options.login.user });
    } else if (commands.length > 0) {
      cursor = await waitForShell(console, cursor, deadline);
    }
    for (const [i, command] of commands.entries()) {
      options.onProgress?.({ kind: "command", index: i + 1, command });
      const ran = await runCommand(console, command, i + 1, cursor, deadline);
      results.push(ran.result);
      cursor = ran.cursor;
    }
    return { result: finish() };
  } catch (error) {
    if (!isDibError(error)) throw error;
    const result = finish({
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    });
    return stalled === undefined ? { result } : { result, stalled };
  } finally {
    if (watch) clearInterval(watch);
    await stopQemu(child);
    socket?.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function lastLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .at(-1) ?? ""
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function listen(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConnection);
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

async function waitForConnection(
  connected: () => boolean,
  exited: () => string | undefined,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!connected()) {
    const exit = exited();
    if (exit !== undefined) throw new DibError("DIB_BOOT_QEMU_FAILED", exit);
    if (Date.now() > until) {
      throw new DibError(
        "DIB_BOOT_QEMU_FAILED",
        `QEMU did not connect its serial console within ${timeoutMs / 1000} s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGTERM, then SIGKILL if QEMU has not gone after a grace period. */
async function stopQemu(child: ReturnType<Host["spawn"]>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const gone = await Promise.race([
    child.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), QEMU_EXIT_GRACE_MS).unref()),
  ]);
  if (!gone) {
    child.kill("SIGKILL");
    await child;
  }
}
