import { resolve } from "node:path";
import type { AnyBlockDevicePlugin } from "@dib/block-device";
import { architecture, runsNatively } from "@dib/elements";
import { DibError, type Host, installInterruptHandler, requireTools, toDibError } from "@dib/host";
import type { OutputPlan } from "@dib/output";
import { STOCK_BLOCK_DEVICE_LEVELS } from "./block-device-levels.js";
import type { BuildEvent, BuildEventListener, BuildOutput, PhaseTiming } from "./build-events.js";
import { BuildLogFile } from "./build-log.js";
import { type BuildOptions, type BuildOptionsInput, parseBuildOptions } from "./build-options.js";
import { type BuildPlan, type PlannedStep, planBuild } from "./build-plan.js";
import { addOutput, BUILD_STEPS, type BuildState } from "./build-steps.js";
import { elementOutputs } from "./element-outputs.js";
import { hostArch } from "./host-arch.js";
import { unmountBelow } from "./mount-sweep.js";
import { PlanCursor } from "./step-context.js";
import { chooseBlockDeviceConfig } from "./steps/block-device-step.js";
import { checkForeignArch } from "./steps/foreign-arch-step.js";
import { planBuildOutputs } from "./steps/output-step.js";
import { resolveStep } from "./steps/resolve-step.js";
import { reusedOutputsSkip } from "./steps/stage-cache-step.js";
import { closeWorkspace, releaseAllButWorkspace, type Workspace } from "./workspace.js";

export interface BuildRuntime {
  host: Host;
  onEvent?: BuildEventListener | undefined;
  /** The block-device levels (default: the stock ones). */
  blockDeviceLevels?: readonly AnyBlockDevicePlugin[] | undefined;
  /** Undo the ledger on SIGINT/SIGTERM/SIGHUP (default true; a long-lived host process may say no). */
  handleSignals?: boolean | undefined;
}

export interface BuildResult {
  outputs: BuildOutput[];
  /** Time per step of the plan, in order. */
  timings: PhaseTiming[];
  /** The expanded element set (IMAGE_ELEMENT). */
  elements: string[];
  arch: string;
  /** DIB_IMAGE_SIZE in KiB, for builds that made a disk. */
  imageSizeKiB?: number;
  /** The build directory (removed by now). */
  buildDir: string;
  durationMs: number;
  plan: BuildPlan;
}

/**
 * Checks up front what DIB checks at startup (§1.1 step 3): output types and their
 * tools. The output plan made here is the one the output steps carry out.
 */
async function preflight(host: Host, options: BuildOptions, arch: string): Promise<OutputPlan> {
  const outputs = await planBuildOutputs(host, options, arch);
  requireTools([...outputs.tools, "chroot", "cp", "du"], "for this build");
  return outputs;
}

function withStep(
  error: unknown,
  step: string | undefined,
  buildDir: string | undefined,
): DibError {
  const e = toDibError(error);
  const details = { ...e.details, ...(step ? { step } : {}), ...(buildDir ? { buildDir } : {}) };
  const out = new DibError(e.code, e.message, {
    hint: e.hint,
    file: e.file,
    details,
    cause: e.cause ?? error,
  });
  if (e.stack) out.stack = e.stack;
  return out;
}

/** The plan's first step, run before there is a plan (the plan depends on its result). */
async function resolveElements(
  options: BuildOptions,
  arch: string,
  host: Host,
  say: (l: string) => void,
) {
  say(`Building elements: ${options.elements.join(" ")}`);
  const resolved = await resolveStep({ ...options, arch });
  for (const o of resolved.overrides)
    host.debug(`Element ${o.used.dir} overrides ${o.shadowed.dir}`);
  say(`Expanded element dependencies to: ${resolved.names.join(" ")}`);
  return resolved;
}

/**
 * Everything before the first planned step after `elements`: the host checked, the
 * elements resolved, the build planned (the cursor follows that plan from here on).
 */
async function prepare(
  options: BuildOptions,
  runtime: BuildRuntime,
  cursor: PlanCursor,
  emit: (event: BuildEvent) => void,
): Promise<BuildState> {
  const { host } = runtime;
  const say = (line: string) => emit({ type: "log", line, stream: "builder" });
  const machineArch = await hostArch(host);
  // ARCH in Debian's names whatever `-a` said (aarch64 → arm64), as DIB's own default is:
  // hooks, package-installs filters and the bootstrap all see one spelling.
  const arch = options.arch ? architecture(options.arch).name : machineArch;
  if (options.arch && options.arch !== arch)
    say(`ARCH ${options.arch} is ${arch} in Debian's names`);
  const foreignArch = !runsNatively(machineArch, arch);
  if (foreignArch) checkForeignArch(machineArch, architecture(arch));
  const outputPlan = await preflight(host, options, arch);
  const handleSignals = runtime.handleSignals ?? true;
  if (handleSignals) {
    installInterruptHandler(host, (signal) =>
      say(`${signal}: releasing everything this build holds`),
    );
  }
  const resolved = await cursor.step("elements", () => resolveElements(options, arch, host, say));
  const blockDeviceChoice = chooseBlockDeviceConfig({
    configOption: options.blockDeviceConfig,
    elements: resolved.elements,
    arch,
  });
  const plan = planBuild({
    imageTypes: options.imageTypes,
    imageElements: resolved.names,
    installPackages: options.installPackages,
    ramdisk: options.ramdisk,
    blockDeviceConfig: blockDeviceChoice.source,
    stageCache: options.stageCache !== "off",
    foreignArch,
  });
  cursor.setPlan(plan.steps);
  return {
    host,
    options,
    arch,
    hostArch: machineArch,
    plan,
    outputPlan,
    resolved,
    blockDeviceChoice,
    blockDeviceLevels: runtime.blockDeviceLevels ?? STOCK_BLOCK_DEVICE_LEVELS,
    handleSignals,
    emit,
    stepContext: (workspace) => ({
      host,
      ledger: workspace.ledger,
      workspace,
      options,
      emit,
      step: (name, run) => cursor.step(name, run),
      skip: (name, reason) => cursor.skip(name, reason),
    }),
    variables: { arch, elements: resolved.elements.map((e) => ({ name: e.name, path: e.dir })) },
    outputs: [],
  };
}

/** One planned step through BUILD_STEPS: run, or passed over when its result is there. */
async function runPlannedStep(
  state: BuildState,
  step: PlannedStep,
  cursor: PlanCursor,
): Promise<void> {
  const work = BUILD_STEPS[step.name];
  if (!work) throw new DibError("DIB_INTERNAL", `the plan has a step ${step.name} nobody runs`);
  const skipped = reusedOutputsSkip(state.stageCache, step.name) ?? work.skip?.(state);
  if (skipped !== undefined) cursor.skip(step.name, skipped);
  else await cursor.step(step.name, () => work.run(state, step));
}

function resultOf(state: BuildState, cursor: PlanCursor, started: number): BuildResult {
  const result: BuildResult = {
    outputs: state.outputs,
    timings: cursor.timings,
    elements: state.resolved.names,
    arch: state.arch,
    buildDir: state.workspace?.dir ?? "",
    durationMs: Date.now() - started,
    plan: state.plan,
  };
  if (state.imageSizeKiB !== undefined) result.imageSizeKiB = state.imageSizeKiB;
  return result;
}

/**
 * Builds an image: DIB's disk-image-create as one call (§2). The elements are resolved,
 * the build planned (planBuild), and every step of the plan run in order through
 * BUILD_STEPS, with progress events; on success the outputs are written and the build
 * directory is gone, on failure everything the build attached or mounted is released
 * before the error (naming the step, and for hooks the element and script) is thrown.
 */
export async function build(input: BuildOptionsInput, runtime: BuildRuntime): Promise<BuildResult> {
  const started = Date.now();
  const options = parseBuildOptions(input);
  const log = options.logfile ? new BuildLogFile(resolve(options.cwd, options.logfile)) : undefined;
  const emit = (event: BuildEvent) => {
    log?.write(event);
    runtime.onEvent?.(event);
  };
  const say = (line: string) => emit({ type: "log", line, stream: "builder" });
  const cursor = new PlanCursor(emit);
  let state: BuildState | undefined;
  try {
    state = await prepare(options, runtime, cursor, emit);
    for (const step of cursor.remainingSteps()) await runPlannedStep(state, step, cursor);
    // What elements wrote beside the image (a ramdisk's kernel and initramfs, ISOs).
    for (const output of elementOutputs(options, started)) addOutput(state, output);
    say("Build completed successfully");
    return resultOf(state, cursor, started);
  } catch (error) {
    const workspace = state?.workspace;
    const failure = withStep(error, cursor.current, workspace?.dir);
    if (workspace) await releaseAfterFailure(workspace, options, failure, say);
    throw failure;
  } finally {
    if (state?.removeOnExit) process.removeListener("exit", state.removeOnExit);
    log?.close();
  }
}

/**
 * After a failure: everything the build holds is released; the build directory goes too,
 * unless it is to be kept for a look (keep-on-failure, break=after-error), in which case
 * only its own tmpfs stays mounted and `dib-cli cleanup` takes care of it later.
 */
async function releaseAfterFailure(
  workspace: Workspace,
  options: BuildOptions,
  failure: DibError,
  say: (line: string) => void,
): Promise<void> {
  const keep = options.keepOnFailure || options.breakpoints.includes("after-error");
  try {
    if (keep) {
      await releaseAllButWorkspace(workspace);
      await unmountBelow(workspace.ledger, workspace.root);
      say(`Build directory kept for inspection: ${workspace.dir}`);
      say(`Remove it with: dib-cli cleanup --remove ${workspace.dir}`);
      failure.details.keptBuildDir = workspace.dir;
    } else {
      await closeWorkspace(workspace);
    }
  } catch (cleanupError) {
    const message = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
    failure.details.cleanupError = message;
    say(`Cleaning up after the failure failed too: ${message}`);
    say(`Release what is left with: dib-cli cleanup --remove ${workspace.dir}`);
  }
}
