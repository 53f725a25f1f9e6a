import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type AnyBlockDevicePlugin, createBlockDevice, toolsOf } from "@dib/block-device";
import {
  DibError,
  type Host,
  installInterruptHandler,
  requireTools,
  safeRemove,
  toDibError,
} from "@dib/host";
import type { OutputPlan } from "@dib/output";
import { STOCK_BLOCK_DEVICE_LEVELS } from "./block-device-levels.js";
import type { BuildEvent, BuildEventListener, BuildOutput, PhaseTiming } from "./build-events.js";
import { BuildLogFile } from "./build-log.js";
import { type BuildOptions, type BuildOptionsInput, parseBuildOptions } from "./build-options.js";
import { type BuildPlan, planBuild } from "./build-plan.js";
import { writeCliWrapper } from "./cli-wrapper.js";
import { elementOutputs } from "./element-outputs.js";
import type { BuildVariables } from "./hook-env.js";
import { hostArch } from "./host-arch.js";
import { unmountBelow } from "./mount-sweep.js";
import { lockOutputs, warnIfOutputsCannotFit } from "./output-guard.js";
import { PlanCursor, type StepContext } from "./step-context.js";
import {
  blockDeviceParams,
  blockDeviceStep,
  type CreatedImage,
  chooseBlockDeviceConfig,
  factsAfterCreate,
  factsAfterInit,
} from "./steps/block-device-step.js";
import { finaliseStep } from "./steps/finalise-step.js";
import { hooksStep } from "./steps/hooks-step.js";
import { outputStep, planBuildOutputs } from "./steps/output-step.js";
import { resolveStep } from "./steps/resolve-step.js";
import { rootStep } from "./steps/root-step.js";
import { runHooks } from "./steps/run-hooks.js";
import { sizeStep } from "./steps/size-step.js";
import { copyTree } from "./tree-copy.js";
import {
  closeWorkspace,
  openWorkspace,
  releaseAllButWorkspace,
  type Workspace,
} from "./workspace.js";

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

/**
 * Builds an image: DIB's disk-image-create as one call (§2). Every step of the plan
 * (planBuild) runs in order with progress events; on success the outputs are written
 * and the build directory is gone, on failure everything the build attached or mounted
 * is released before the error (naming the step, and for hooks the element and script)
 * is thrown.
 */
export async function build(input: BuildOptionsInput, runtime: BuildRuntime): Promise<BuildResult> {
  const started = Date.now();
  const options = parseBuildOptions(input);
  const { host } = runtime;
  const log = options.logfile ? new BuildLogFile(join(options.cwd, options.logfile)) : undefined;
  const emit = (event: BuildEvent) => {
    log?.write(event);
    runtime.onEvent?.(event);
  };
  const say = (line: string) => emit({ type: "log", line, stream: "builder" });
  const warn = (message: string) => emit({ type: "warning", message });
  const cursor = new PlanCursor(emit);
  let workspace: Workspace | undefined;
  let removeOnExit: (() => void) | undefined;
  try {
    const arch = options.arch ?? (await hostArch(host));
    const outputPlan = await preflight(host, options, arch);
    if (runtime.handleSignals ?? true) {
      installInterruptHandler(host, (signal) =>
        say(`${signal}: releasing everything this build holds`),
      );
    }

    const resolved = await cursor.step("elements", async () => {
      say(`Building elements: ${options.elements.join(" ")}`);
      const r = await resolveStep({ ...options, arch });
      for (const o of r.overrides) host.debug(`Element ${o.used.dir} overrides ${o.shadowed.dir}`);
      say(`Expanded element dependencies to: ${r.names.join(" ")}`);
      return r;
    });
    const bdChoice = chooseBlockDeviceConfig({
      configOption: options.blockDeviceConfig,
      elements: resolved.elements,
      arch,
    });
    const plan = planBuild({
      imageTypes: options.imageTypes,
      imageElements: resolved.names,
      installPackages: options.installPackages,
      ramdisk: options.ramdisk,
      blockDeviceConfig: bdChoice.source,
      stageCache: options.stageCache !== "off",
    });
    cursor.setPlan(plan.steps);

    const ws = await cursor.step("workspace", () => {
      mkdirSync(options.imageCache, { recursive: true });
      mkdirSync(options.lockfilesDir, { recursive: true });
      return openWorkspace({
        host,
        tmpDir: options.tmpDir,
        noTmpfs: options.noTmpfs,
        minTmpfsGb: options.minTmpfsGb,
        warn,
      });
    });
    try {
      // Before anything is built: a second build with this -o stops here, naming the first.
      await lockOutputs(ws, options);
    } catch (error) {
      await closeWorkspace(ws);
      throw error;
    }
    workspace = ws;
    if (runtime.handleSignals ?? true) {
      // The interrupt handler undoes the ledger and exits; what is left is an empty tree.
      removeOnExit = () => {
        if (ws.ledger.held().length === 0) safeRemove(ws.dir);
      };
      process.once("exit", removeOnExit);
    }
    say(`Build directory: ${ws.dir}${ws.tmpfs ? " (tmpfs)" : ""}`);
    if (options.cliCommand) writeCliWrapper(ws.binDir, options.cliCommand);
    const ctx: StepContext = {
      host,
      ledger: ws.ledger,
      workspace: ws,
      options,
      emit,
      step: (name, run) => cursor.step(name, run),
      skip: (name, reason) => cursor.skip(name, reason),
    };
    const variables: BuildVariables = {
      arch,
      elements: resolved.elements.map((e) => ({ name: e.name, path: e.dir })),
    };

    const hooks = await ctx.step("hooks", () => hooksStep(resolved.elements, ws.hooksDir));
    for (const w of hooks.plan.warnings) warn(w.message);

    const blockDevice = createBlockDevice({
      plugins: runtime.blockDeviceLevels ?? STOCK_BLOCK_DEVICE_LEVELS,
      host,
      ledger: ws.ledger,
    });
    const settings = {
      fsType: options.fsType,
      rootLabel: options.rootLabel,
      blockSize: options.blockSize,
    };
    await ctx.step("block-device-init", async () => {
      const params = blockDeviceParams(ws, settings);
      const init = await blockDevice.init(params, bdChoice.config);
      if (bdChoice.element) host.debug(`block-device layout from ${bdChoice.element}`);
      if (plan.disk)
        requireTools(
          toolsOf(blockDevice.plan(bdChoice.config, params), params),
          "for the block-device layout",
        );
      variables.blockDevice = factsAfterInit(init);
    });

    const root = await rootStep(ctx, {
      hooks,
      variables,
      installType: options.installType,
      installPackages: options.installPackages,
      moveTo: plan.disk ? ws.builtDir : undefined,
      stageCache: options.stageCache !== "off",
    });

    let image: CreatedImage | undefined;
    let imageSizeKiB: number | undefined;
    if (!plan.disk && plan.treeOutputs.length > 0) {
      await warnIfOutputsCannotFit(host, options, root.tree, undefined, warn);
    }
    if (plan.disk) {
      const size = await ctx.step("size", () =>
        sizeStep(host, {
          tree: root.tree,
          imageSizeGb: options.imageSizeGb,
          imageExtraSizeMb: options.imageExtraSizeMb,
          rootFsType: variables.blockDevice?.rootFstype || options.fsType,
          journalSizeMb: options.journalSizeMb,
          release: options.env.DIB_RELEASE,
          imageElements: resolved.names,
          maxOnlineResize: options.maxOnlineResize,
          mkfsOptions: options.mkfsOptions,
          showImageUsage: options.showImageUsage,
          showImageUsageFull: options.showImageUsageFull,
        }),
      );
      for (const line of size.report) say(line);
      for (const line of size.steps) host.debug(`image size: ${line}`);
      await warnIfOutputsCannotFit(host, options, root.tree, size.measuredKiB, warn);
      imageSizeKiB = size.sizeKiB;
      variables.imageSizeKiB = size.sizeKiB;
      await ctx.step("block-device.d", async () => {
        const result = await runHooks(ctx, {
          hooks,
          variables,
          phase: "block-device",
          captureStdout: true,
        });
        const legacy = result.stdout.find((l) => l.includes("IMAGE_BLOCK_DEVICE="));
        if (legacy !== undefined) {
          throw new DibError(
            "DIB_LEGACY_BLOCK_DEVICE",
            "a block-device.d hook provided its own IMAGE_BLOCK_DEVICE",
            {
              hint: "block devices made by hooks are not supported; describe the layout in a block-device YAML (DIB_BLOCK_DEVICE_CONFIG)",
              details: { line: legacy },
            },
          );
        }
      });
      image = await ctx.step("block-device-create", async () => {
        const params = blockDeviceParams(ws, settings, {
          bytes: size.sizeKiB * 1024,
          rootFsOpts: size.mkfsOptions,
        });
        const created = await blockDeviceStep(blockDevice, { params, config: bdChoice.config });
        variables.blockDevice = factsAfterCreate(variables.blockDevice ?? {}, created.created);
        return created;
      });
      const made = image;
      await ctx.step("copy", async () => {
        await copyTree(host, root.tree, ws.mountDir);
        safeRemove(root.tree, { within: ws.root });
        blockDevice.writefstab(made.params, join(ws.mountDir, "etc/fstab"));
      });
    }

    const finalised = await finaliseStep(ctx, {
      hooks,
      variables,
      keepMounts: image?.mountPaths ?? [],
    });

    const outputs: BuildOutput[] = [];
    const onOutput = (output: BuildOutput) => {
      outputs.push(output);
      emit({ type: "output", output });
    };
    if (plan.treeOutputs.length > 0) {
      await ctx.step("tree-outputs", () =>
        outputStep(
          host,
          options,
          {
            plan: outputPlan,
            types: plan.treeOutputs,
            tree: finalised.tree,
            keepMounts: image?.mountPoints ?? [],
          },
          onOutput,
        ),
      );
    }
    if (image) {
      const made = image;
      await ctx.step("block-device-umount", () => blockDevice.umount(made.params));
      await ctx.step("block-device-cleanup", () => blockDevice.cleanup(made.params));
    }
    if (plan.diskOutputs.length > 0) {
      const raw = image?.imagePath;
      await ctx.step("disk-outputs", () =>
        outputStep(
          host,
          options,
          { plan: outputPlan, types: plan.diskOutputs, rawImage: raw },
          onOutput,
        ),
      );
    }
    // What elements wrote beside the image (a ramdisk's kernel and initramfs, ISOs).
    for (const output of elementOutputs(options, started)) onOutput(output);
    await ctx.step("workspace-cleanup", () => closeWorkspace(ws));
    say("Build completed successfully");
    const result: BuildResult = {
      outputs,
      timings: cursor.timings,
      elements: resolved.names,
      arch,
      buildDir: ws.dir,
      durationMs: Date.now() - started,
      plan,
    };
    if (imageSizeKiB !== undefined) result.imageSizeKiB = imageSizeKiB;
    return result;
  } catch (error) {
    const failure = withStep(error, cursor.current, workspace?.dir);
    if (workspace) await releaseAfterFailure(workspace, options, failure, say);
    throw failure;
  } finally {
    if (removeOnExit) process.removeListener("exit", removeOnExit);
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
