import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { DibError, type Host, type Ledger } from "@dib/host";
import { type Breakpoints, hasBreakpoint } from "./breakpoints.js";
import { chrootArgv } from "./chroot-command.js";
import { DriverProgress } from "./driver-progress.js";
import { describeExit } from "./exit-status.js";
import { IN_TARGET_DIR, type PhasePlan, phaseName, planPhase } from "./hook-dir.js";
import type { SkippedEntry } from "./hook-dir-entry.js";
import { type InTargetMount, mountHooksInTarget } from "./in-target-mount.js";
import { PHASE_DRIVER_NAME, PHASE_DRIVER_SCRIPT } from "./phase-driver.js";
import type { PhaseEvent, PhaseWhere } from "./phase-events.js";
import { formatProfilingTable, type ScriptTiming } from "./profiling-table.js";

/** Where a phase runs: on the host, or inside a root through chroot. */
export type PhaseTarget = "outside" | { chroot: string };

/** Which element a hook file came from, keyed `<dir>/<name>` relative to the hook tree. */
export type ScriptElements =
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | ((path: string) => string | undefined);

export interface RunPhaseOptions {
  /** `install` or `install.d`. */
  phase: string;
  /** The merged hook tree on the host (TMP_HOOKS_PATH). */
  hooksDir: string;
  target: PhaseTarget;
  /** The hook environment (hookEnvironment()), set over the process's own. */
  env: Readonly<Record<string, string>>;
  host: Host;
  /** Required for chroot phases: the in-target bind mount and the chroot are recorded in it. */
  ledger?: Ledger;
  /** `install.d/50-foo` → `foo`, `environment.d/10-bar.bash` → `bar` (from the hook-tree plan). */
  scriptElements?: ScriptElements;
  onEvent?: (event: PhaseEvent) => void;
  /** Where script output goes (default: host.log). Output events are emitted either way. */
  output?: (line: string, stream: "stdout" | "stderr") => void;
  breakpoints?: Breakpoints;
  /** Where the per-script PROFILING table goes: host.debug (default), host.log, or nowhere. */
  timing?: "debug" | "log" | "off";
  /** Working directory of an outside phase (default: the process's). */
  cwd?: string;
  /** Pass the process's environment through as DIB's `sudo -E` does (default true). */
  inheritEnv?: boolean;
  /** Collect the scripts' stdout lines in the result (block-device.d's IMAGE_BLOCK_DEVICE=). */
  captureStdout?: boolean;
  /** How long to wait for output after the driver exits before leaving a process that holds it (ms). */
  outputGraceMs?: number;
}

export interface PhaseResult {
  phase: string;
  /** False when no element has hooks for the phase (nothing ran, not even environment.d). */
  ran: boolean;
  timings: ScriptTiming[];
  /** Entries not run or sourced, with the reason (also reported as events and warnings). */
  skipped: SkippedEntry[];
  seconds: number;
  /** The scripts' stdout lines, with captureStdout. */
  stdout: string[];
}

function elementLookup(map: ScriptElements | undefined): (path: string) => string | undefined {
  if (map === undefined) return () => undefined;
  if (typeof map === "function") return map;
  if (map instanceof Map) return (path) => map.get(path);
  const record = map as Readonly<Record<string, string>>;
  return (path) => (Object.hasOwn(record, path) ? record[path] : undefined);
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function writeDriver(hooksDir: string): void {
  const path = join(hooksDir, PHASE_DRIVER_NAME);
  let current: string | undefined;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // not written yet
  }
  if (current !== PHASE_DRIVER_SCRIPT) writeFileSync(path, PHASE_DRIVER_SCRIPT, { mode: 0o644 });
}

function signalExitCode(signal: NodeJS.Signals | null): number {
  const number = signal ? constants.signals[signal] : undefined;
  return number ? 128 + number : 1;
}

function sleep(ms: number) {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}

function describeElement(element: string | undefined): string {
  return element ? ` (element ${element})` : "";
}

const DEBUG_HINT =
  "its output is above; -x traces the scripts, and break=after-error opens a shell where it failed";

/**
 * Runs one phase (spec §2.5–2.6): sources environment.d, then runs the phase's scripts in
 * run-parts order in one bash process (our driver), outside or inside a chroot, stopping
 * at the first failure with a DibError naming the phase, script, element and exit code.
 *
 * For a chroot phase the hook tree is bound read-only at /tmp/in_target.d for the
 * duration, and processes the scripts leave running inside the root are ended when the
 * phase ends. The chroot's /proc, /dev and /sys are the caller's (mountChrootFilesystems).
 */
export async function runPhase(options: RunPhaseOptions): Promise<PhaseResult> {
  const phase = phaseName(options.phase);
  const { host, hooksDir } = options;
  const where: PhaseWhere = options.target === "outside" ? "outside" : "chroot";
  const root = options.target === "outside" ? undefined : options.target.chroot;
  const emit = options.onEvent ?? (() => {});
  const started = Date.now();
  if (!isDirectory(hooksDir)) {
    throw new DibError("DIB_HOOKS_MISSING", `hook tree ${hooksDir} does not exist`, {
      hint: "the builder generates it from the elements before the first phase",
    });
  }
  if (root !== undefined && !options.ledger) {
    throw new DibError("DIB_INTERNAL", `runPhase(${phase}) in a chroot needs the build's ledger`);
  }
  const notRun = (): PhaseResult => ({
    phase,
    ran: false,
    timings: [],
    skipped: [],
    seconds: 0,
    stdout: [],
  });

  const breakAt = async (point: string) => {
    if (!hasBreakpoint(options.breakpoints, point)) return;
    await openBreakShell(options, phase, point, root);
  };

  if (!isDirectory(join(hooksDir, `${phase}.d`))) {
    // DIB still stops at the breakpoints of an empty outside phase, not of a chroot one.
    if (where === "outside") {
      await breakAt(`before-${phase}`);
      await breakAt(`after-${phase}`);
    }
    return notRun();
  }

  writeDriver(hooksDir);
  let inTarget: InTargetMount | undefined;
  let primary: unknown;
  let result: PhaseResult | undefined;
  try {
    if (root !== undefined)
      inTarget = await mountHooksInTarget(root, hooksDir, options.ledger as Ledger);
    const plan = planPhase(root === undefined ? { phase, hooksDir } : { phase, hooksDir, root });
    reportSkipped(plan, host, emit);
    emit({
      type: "phase-start",
      phase,
      where,
      scripts: plan.scripts,
      environmentFiles: plan.environmentFiles,
    });
    host.debug(`Running hooks from ${plan.dir}`);
    await breakAt(`before-${phase}`);
    const run = await runDriver(options, phase, plan, root);
    const { progress } = run;
    if (options.timing !== "off" && progress.timings.length > 0) {
      const print =
        options.timing === "log" ? (l: string) => host.log(l) : (l: string) => host.debug(l);
      for (const line of formatProfilingTable(`${phase}.d`, progress.timings)) print(line);
    }
    const failure = phaseFailure(
      phase,
      where,
      run.exitCode,
      progress,
      elementLookup(options.scriptElements),
    );
    if (failure) {
      emit({
        type: "phase-end",
        phase,
        ok: false,
        seconds: (Date.now() - started) / 1000,
        timings: progress.timings,
      });
      if (hasBreakpoint(options.breakpoints, "after-error")) {
        await openBreakShell(options, phase, "after-error", root);
      }
      throw failure;
    }
    await breakAt(`after-${phase}`);
    const seconds = (Date.now() - started) / 1000;
    emit({ type: "phase-end", phase, ok: true, seconds, timings: progress.timings });
    result = {
      phase,
      ran: true,
      timings: progress.timings,
      skipped: [...plan.skipped, ...plan.environmentSkipped],
      seconds,
      stdout: run.stdout,
    };
  } catch (error) {
    primary = error;
  } finally {
    if (inTarget) {
      try {
        // A shell opened at a breakpoint may have left processes too.
        if (root !== undefined) await endProcessesIn(root, options.ledger as Ledger);
        await inTarget.release();
      } catch (error) {
        primary ??= error;
      }
    }
  }
  if (primary !== undefined) throw primary;
  return result as PhaseResult;
}

function reportSkipped(plan: PhasePlan, host: Host, emit: (event: PhaseEvent) => void): void {
  const report = (dir: string, entries: readonly SkippedEntry[]) => {
    for (const s of entries) {
      emit({ type: "skipped", phase: plan.phase, dir, ...s });
      (s.warn ? (l: string) => host.log(l) : (l: string) => host.debug(l))(
        `${s.warn ? "WARNING: " : ""}${dir}/${s.message}`,
      );
    }
  };
  report(`${plan.phase}.d`, plan.skipped);
  report("environment.d", plan.environmentSkipped);
}

/** Ends what runs inside `root` now (the ledger records the chroot, then releases it). */
async function endProcessesIn(root: string, ledger: Ledger): Promise<void> {
  const { seq } = await ledger.chroot(root);
  await ledger.release(seq);
}

interface DriverRun {
  exitCode: number;
  progress: DriverProgress;
  stdout: string[];
}

async function runDriver(
  options: RunPhaseOptions,
  phase: string,
  plan: PhasePlan,
  root: string | undefined,
): Promise<DriverRun> {
  const { host } = options;
  const base = root === undefined ? options.hooksDir : IN_TARGET_DIR;
  const nonce = randomBytes(8).toString("hex");
  const phaseDir = `${base}/${phase}.d`;
  const envDir = `${base}/environment.d`;
  const driverArgv = [
    "bash",
    `${base}/${PHASE_DRIVER_NAME}`,
    phaseDir,
    envDir,
    nonce,
    ...plan.environmentFiles,
    "--",
    ...plan.scripts,
  ];
  const stdout: string[] = [];
  const output = options.output ?? ((line: string) => host.log(line));
  const progress = new DriverProgress({
    phase,
    nonce,
    scripts: plan.scripts,
    elementOf: elementLookup(options.scriptElements),
    emit: options.onEvent ?? (() => {}),
    output: (line, stream) => {
      if (options.captureStdout && stream === "stdout") stdout.push(line);
      output(line, stream);
    },
    log: (line) => host.debug(line),
    phaseDir,
    envDir,
  });
  // Processes the scripts leave behind are recorded as running in the chroot, and ended
  // as soon as the driver is done.
  const chrootHeld = root === undefined ? undefined : await options.ledger?.chroot(root);
  const child = host.spawn(root === undefined ? driverArgv : chrootArgv(root, driverArgv), {
    env: { ...options.env },
    extendEnv: options.inheritEnv ?? true,
    ...(root === undefined ? { cwd: options.cwd ?? process.cwd() } : {}),
    onLine: (line, stream) => progress.line(line, stream),
  });
  const exitCode = await new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signalExitCode(signal)));
    child.then(
      (r) => resolve(r.exitCode ?? 1),
      () => resolve(1),
    );
  });
  if (chrootHeld && options.ledger) await options.ledger.release(chrootHeld.seq);
  // A daemon started outside may still hold our pipes: read what is there, then let go.
  const drained = await Promise.race([
    child.then(
      () => true,
      () => true,
    ),
    sleep(options.outputGraceMs ?? 2000).then(() => false),
  ]);
  if (!drained) {
    host.log(
      `WARNING: a process started by ${phase}.d still holds its output after the phase ended; it is left running`,
    );
    child.stdout?.destroy();
    child.stderr?.destroy();
    await child.catch(() => {});
  }
  return { exitCode, progress, stdout };
}

function phaseFailure(
  phase: string,
  where: PhaseWhere,
  exitCode: number,
  progress: DriverProgress,
  elementOf: (path: string) => string | undefined,
): DibError | undefined {
  const details = { phase, where, exitCode, outputTail: [...progress.outputTail] };
  if (progress.failed) {
    const { script, element, exitCode: code } = progress.failed;
    const exit = describeExit(code);
    return new DibError(
      "DIB_PHASE_SCRIPT_FAILED",
      `${phase}.d/${script}${describeElement(element)} ${exit.text}`,
      {
        hint: exit.hint ? `${exit.hint}; ${DEBUG_HINT}` : DEBUG_HINT,
        details: {
          ...details,
          script,
          element,
          exitCode: code,
          ...(exit.signal ? { signal: exit.signal } : {}),
        },
      },
    );
  }
  if (progress.running !== undefined) {
    const script = progress.running;
    const element = elementOf(`${phase}.d/${script}`);
    // The phase's own shell ended under the script: a signal names what ended it.
    const exit = describeExit(exitCode);
    return new DibError(
      "DIB_PHASE_SCRIPT_FAILED",
      `${phase}.d/${script}${describeElement(element)} was interrupted${
        exit.signal ? `: its phase ${exit.text}` : ` (exit code ${exitCode})`
      }`,
      {
        hint: exit.hint ? `${exit.hint}; ${DEBUG_HINT}` : DEBUG_HINT,
        details: { ...details, script, element, ...(exit.signal ? { signal: exit.signal } : {}) },
      },
    );
  }
  if (progress.sourcing !== undefined) {
    const file = progress.sourcing;
    const element = elementOf(`environment.d/${file}`);
    return new DibError(
      "DIB_PHASE_ENVIRONMENT_FAILED",
      `environment.d/${file}${describeElement(element)} stopped phase ${phase}.d with exit code ${exitCode} while it was sourced`,
      {
        hint: "environment files are sourced under `set -eu` before every phase; an `exit` there ends the phase (elements use that to refuse an unsupported architecture or init system)",
        details: { ...details, environmentFile: file, element },
      },
    );
  }
  if (exitCode !== 0 || !progress.finished) {
    return new DibError(
      "DIB_PHASE_DRIVER_FAILED",
      `phase ${phase}.d could not run (${where}): the driver exited with code ${exitCode}`,
      {
        hint: `${where === "chroot" ? "bash must exist inside the chroot. " : ""}output:\n${progress.outputTail.join("\n")}`,
        details,
      },
    );
  }
  return undefined;
}

async function openBreakShell(
  options: RunPhaseOptions,
  phase: string,
  point: string,
  root: string | undefined,
): Promise<void> {
  const { host } = options;
  const breakpoints = options.breakpoints as Breakpoints;
  const inChroot = root !== undefined && !breakpoints.outsideTarget;
  host.log("Starting debug shell. Exit to resume building.");
  host.log(`At stage ${point}`);
  options.onEvent?.({ type: "breakpoint", phase, point, where: inChroot ? "chroot" : "outside" });
  const argv = ["bash", "-c", breakpoints.command];
  await host.run(inChroot ? chrootArgv(root, argv) : argv, {
    env: { ...options.env },
    extendEnv: options.inheritEnv ?? true,
    stdio: "inherit",
    allowFailure: true,
    ...(inChroot ? {} : { cwd: options.cwd ?? process.cwd() }),
  });
}
