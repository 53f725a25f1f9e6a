import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import {
  type AnyBlockDevicePlugin,
  type BlockDevice,
  createBlockDevice,
  toolsOf,
} from "@dib/block-device";
import { DibError, type Host, requireTools, safeRemove } from "@dib/host";
import type { OutputPlan } from "@dib/output";
import {
  allowServiceStarts,
  blockServiceStarts,
  type ChrootFilesystems,
  mountChrootFilesystems,
  restoreResolvConf,
  useHostResolvConf,
} from "@dib/phase-runner";
import type { BuildEvent, BuildOutput } from "./build-events.js";
import type { BuildOptions } from "./build-options.js";
import type { BuildPlan, PlannedStep } from "./build-plan.js";
import { writeCliWrapper } from "./cli-wrapper.js";
import type { BuildVariables } from "./hook-env.js";
import { writeInstallTypeFile } from "./install-type.js";
import { unmountBelow } from "./mount-sweep.js";
import { lockOutputs, warnIfOutputsCannotFit } from "./output-guard.js";
import type { StepContext } from "./step-context.js";
import {
  type BlockDeviceConfigChoice,
  blockDeviceParams,
  blockDeviceStep,
  type CreatedImage,
  factsAfterCreate,
  factsAfterInit,
} from "./steps/block-device-step.js";
import { foreignArchStep } from "./steps/foreign-arch-step.js";
import { type HookTree, hooksStep } from "./steps/hooks-step.js";
import { outputStep } from "./steps/output-step.js";
import type { ResolvedBuildElements } from "./steps/resolve-step.js";
import { runHooks, runInTarget } from "./steps/run-hooks.js";
import { sizeStep } from "./steps/size-step.js";
import {
  restoreStage,
  type StageCacheState,
  storeOutputs,
  storeStage,
} from "./steps/stage-cache-step.js";
import { copyTree } from "./tree-copy.js";
import { tidyTree } from "./tree-tidy.js";
import { closeWorkspace, openWorkspace, type Workspace } from "./workspace.js";

/**
 * What the steps of one build share. The first part is known before the first planned
 * step; the rest is filled in by the steps, each reading only what an earlier step of
 * the plan wrote (`need` says so when one did not).
 */
export interface BuildState {
  readonly host: Host;
  readonly options: BuildOptions;
  readonly arch: string;
  /** The build host's own architecture (Debian's name). */
  readonly hostArch: string;
  readonly plan: BuildPlan;
  readonly outputPlan: OutputPlan;
  readonly resolved: ResolvedBuildElements;
  readonly blockDeviceChoice: BlockDeviceConfigChoice;
  readonly blockDeviceLevels: readonly AnyBlockDevicePlugin[];
  /** Undo the ledger's work on exit signals: also remove an empty build directory at exit. */
  readonly handleSignals: boolean;
  readonly emit: (event: BuildEvent) => void;
  readonly stepContext: (workspace: Workspace) => StepContext;
  /** What hooks are told about the build, growing as it goes. */
  readonly variables: BuildVariables;
  readonly outputs: BuildOutput[];
  workspace?: Workspace;
  /** Removes an empty build directory when the process exits (signals). */
  removeOnExit?: () => void;
  ctx?: StepContext;
  hooks?: HookTree;
  blockDevice?: BlockDevice;
  stageCache?: StageCacheState;
  /** /proc, /dev, /sys mounted in the tree for the chroot phases. */
  chroot?: ChrootFilesystems;
  /** Where the root tree is: the mount folder, or where it waits while the disk is made. */
  tree?: string;
  imageSizeKiB?: number;
  /** The root filesystem's mkfs options, from the size step. */
  rootFsOpts?: string;
  image?: CreatedImage;
}

/** One step's work; `skip` says why it need not run this time (a restored stage). */
export interface BuildStep {
  run(state: BuildState, step: PlannedStep): Promise<void>;
  skip?(state: BuildState): string | undefined;
}

/** DIB's check after root.d: a root with nothing but lost+found or tmp was not deployed. */
export function rootWasDeployed(entries: readonly string[]): boolean {
  return entries.some((e) => e !== "lost+found" && e !== "tmp");
}

/** A field an earlier step of the plan fills in; its absence is the builder's bug. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new DibError("DIB_INTERNAL", `no ${what} at this step`);
  return value;
}

function say(state: BuildState, line: string): void {
  state.emit({ type: "log", line, stream: "builder" });
}

function warn(state: BuildState, message: string): void {
  state.emit({ type: "warning", message });
}

function blockDeviceSettings(options: BuildOptions) {
  return { fsType: options.fsType, rootLabel: options.rootLabel, blockSize: options.blockSize };
}

/** A hook phase, in the chroot or outside as the plan says. */
async function hookPhase(state: BuildState, step: PlannedStep, captureStdout = false) {
  const ctx = need(state.ctx, "step context");
  return runHooks(ctx, {
    hooks: need(state.hooks, "hooks tree"),
    variables: state.variables,
    phase: need(step.hookPhase, "hook phase"),
    chroot: step.where === "chroot" ? ctx.workspace.mountDir : undefined,
    captureStdout,
  });
}

const hooks: BuildStep = { run: async (state, step) => void (await hookPhase(state, step)) };

/** The steps a restored stage stands for are passed over. */
const restoredStage = (state: BuildState) =>
  state.stageCache?.restored ? "restored from the stage cache" : undefined;
const stageHooks: BuildStep = { ...hooks, skip: restoredStage };

/**
 * Every step planBuild can plan, by name (§2.2). build() runs the plan's steps in its
 * order through this table; `elements` runs before there is a plan, in build() itself.
 */
export const BUILD_STEPS: Readonly<Record<string, BuildStep>> = {
  workspace: {
    async run(state) {
      const { options, host } = state;
      mkdirSync(options.imageCache, { recursive: true });
      mkdirSync(options.lockfilesDir, { recursive: true });
      const ws = await openWorkspace({
        host,
        tmpDir: options.tmpDir,
        noTmpfs: options.noTmpfs,
        minTmpfsGb: options.minTmpfsGb,
        warn: (m) => warn(state, m),
      });
      try {
        // Before anything is built: a second build with this -o stops here, naming the first.
        await lockOutputs(ws, options);
      } catch (error) {
        await closeWorkspace(ws);
        throw error;
      }
      state.workspace = ws;
      if (state.handleSignals) {
        // The interrupt handler undoes the ledger and exits; what is left is an empty tree.
        state.removeOnExit = () => {
          if (ws.ledger.held().length === 0) safeRemove(ws.dir);
        };
        process.once("exit", state.removeOnExit);
      }
      say(state, `Build directory: ${ws.dir}${ws.tmpfs ? " (tmpfs)" : ""}`);
      if (options.cliCommand) writeCliWrapper(ws.binDir, options.cliCommand);
      state.ctx = state.stepContext(ws);
      state.tree = ws.mountDir;
    },
  },

  "foreign-arch": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      const result = await foreignArchStep(ws.ledger, state.hostArch, state.arch);
      say(
        state,
        `${state.arch} programs run through QEMU's user-mode emulator (binfmt_misc entry ${result.entry}${result.registered ? ", registered for this build" : ""})`,
      );
    },
  },

  hooks: {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      state.hooks = await hooksStep(state.resolved.elements, ws.hooksDir);
      for (const w of state.hooks.plan.warnings) warn(state, w.message);
    },
  },

  "block-device-init": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      const choice = state.blockDeviceChoice;
      const blockDevice = createBlockDevice({
        plugins: state.blockDeviceLevels,
        host: state.host,
        ledger: ws.ledger,
      });
      state.blockDevice = blockDevice;
      const params = blockDeviceParams(ws, blockDeviceSettings(state.options));
      const init = await blockDevice.init(params, choice.config);
      if (choice.element) state.host.debug(`block-device layout from ${choice.element}`);
      if (state.plan.disk) {
        requireTools(
          toolsOf(blockDevice.plan(choice.config, params), params),
          "for the block-device layout",
        );
      }
      state.variables.blockDevice = factsAfterInit(init);
    },
  },

  "stage-restore": {
    async run(state) {
      state.stageCache = await restoreStage(need(state.ctx, "step context"), state.variables);
      for (const output of state.stageCache.outputs ?? []) addOutput(state, output);
    },
  },

  "root.d": {
    skip: restoredStage,
    async run(state, step) {
      await hookPhase(state, step);
      if (!rootWasDeployed(readdirSync(need(state.tree, "root tree")))) {
        throw new DibError("DIB_ROOT_EMPTY", "Failed to deploy the root element.", {
          hint: "no root.d hook put a filesystem into TARGET_ROOT: is an operating-system element (debian-minimal, ubuntu-minimal …) in the list, and did its root.d run?",
        });
      }
    },
  },

  "install-type": {
    async run(state) {
      writeInstallTypeFile(need(state.workspace, "workspace").hooksDir, state.options.installType);
    },
  },

  "extra-data.d": stageHooks,

  "chroot-mount": {
    async run(state) {
      const root = need(state.tree, "root tree");
      useHostResolvConf(root);
      blockServiceStarts(root);
      const ws = need(state.workspace, "workspace");
      state.chroot = await mountChrootFilesystems(root, { host: state.host, ledger: ws.ledger });
    },
  },

  "pre-install.d": stageHooks,
  "install.d": stageHooks,

  "install-packages": {
    skip: restoredStage,
    async run(state) {
      const ctx = need(state.ctx, "step context");
      await runInTarget(
        ctx,
        ctx.workspace.mountDir,
        ["install-packages", ...state.options.installPackages],
        state.variables,
        "install-packages",
      );
    },
  },

  "post-install.d": stageHooks,

  "stage-store": {
    skip(state) {
      const plan = state.stageCache?.plan;
      return restoredStage(state) ?? (plan && !plan.use ? plan.reason : undefined);
    },
    async run(state) {
      await storeStage(need(state.ctx, "step context"), need(state.stageCache, "stage cache"));
    },
  },

  "post-root.d": hooks,

  "root-unmount": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      const root = ws.mountDir;
      await need(state.chroot, "chroot mounts").release();
      await unmountBelow(ws.ledger, root);
      safeRemove(join(root, "lost+found"), { within: root });
      if (!state.plan.disk) {
        if (state.plan.treeOutputs.length > 0) {
          await warnIfOutputsCannotFit(state.host, state.options, root, undefined, (m) =>
            warn(state, m),
          );
        }
        return;
      }
      // The tree waits beside the mount folder while the image is made and mounted there.
      renameSync(root, ws.builtDir);
      mkdirSync(root);
      state.tree = ws.builtDir;
    },
  },

  size: {
    async run(state) {
      const { host, options, variables } = state;
      const tree = need(state.tree, "root tree");
      const size = await sizeStep(host, {
        tree,
        imageSizeGb: options.imageSizeGb,
        imageExtraSizeMb: options.imageExtraSizeMb,
        rootFsType: variables.blockDevice?.rootFstype || options.fsType,
        journalSizeMb: options.journalSizeMb,
        release: options.env.DIB_RELEASE,
        imageElements: state.resolved.names,
        maxOnlineResize: options.maxOnlineResize,
        mkfsOptions: options.mkfsOptions,
        showImageUsage: options.showImageUsage,
        showImageUsageFull: options.showImageUsageFull,
      });
      for (const line of size.report) say(state, line);
      for (const line of size.steps) host.debug(`image size: ${line}`);
      await warnIfOutputsCannotFit(host, options, tree, size.measuredKiB, (m) => warn(state, m));
      state.imageSizeKiB = size.sizeKiB;
      variables.imageSizeKiB = size.sizeKiB;
      state.rootFsOpts = size.mkfsOptions;
    },
  },

  "block-device.d": {
    async run(state, step) {
      const result = await hookPhase(state, step, true);
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
    },
  },

  "block-device-create": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      const params = blockDeviceParams(ws, blockDeviceSettings(state.options), {
        bytes: need(state.imageSizeKiB, "image size") * 1024,
        rootFsOpts: need(state.rootFsOpts, "root mkfs options"),
      });
      const image = await blockDeviceStep(need(state.blockDevice, "block device"), {
        params,
        config: state.blockDeviceChoice.config,
      });
      state.image = image;
      state.variables.blockDevice = factsAfterCreate(
        state.variables.blockDevice ?? {},
        image.created,
      );
    },
  },

  copy: {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      const image = need(state.image, "image");
      const tree = need(state.tree, "root tree");
      await copyTree(state.host, tree, ws.mountDir);
      safeRemove(tree, { within: ws.root });
      need(state.blockDevice, "block device").writefstab(
        image.params,
        join(ws.mountDir, "etc/fstab"),
      );
      state.tree = ws.mountDir;
    },
  },

  "finalise-mount": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      state.chroot = await mountChrootFilesystems(ws.mountDir, {
        host: state.host,
        ledger: ws.ledger,
      });
    },
  },

  "pre-finalise.d": hooks,
  "finalise.d": hooks,
  "cleanup.d": hooks,

  "finalise-base": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      await restoreResolvConf(ws.mountDir, { host: state.host });
      allowServiceStarts(ws.mountDir);
      await tidyTree(ws.mountDir, ws.ledger);
    },
  },

  "tree-unmount": {
    async run(state) {
      const ws = need(state.workspace, "workspace");
      await need(state.chroot, "chroot mounts").release();
      await state.host.run(["sync"]);
      await unmountBelow(ws.ledger, ws.mountDir, state.image?.mountPaths ?? []);
    },
  },

  "tree-outputs": {
    async run(state) {
      await outputStep(
        state.host,
        state.options,
        {
          plan: state.outputPlan,
          types: state.plan.treeOutputs,
          tree: need(state.workspace, "workspace").mountDir,
          keepMounts: state.image?.mountPoints ?? [],
        },
        (output) => addOutput(state, output),
      );
    },
  },

  "block-device-umount": {
    async run(state) {
      await need(state.blockDevice, "block device").umount(need(state.image, "image").params);
    },
  },

  "block-device-cleanup": {
    async run(state) {
      await need(state.blockDevice, "block device").cleanup(need(state.image, "image").params);
    },
  },

  "disk-outputs": {
    async run(state) {
      await outputStep(
        state.host,
        state.options,
        { plan: state.outputPlan, types: state.plan.diskOutputs, rawImage: state.image?.imagePath },
        (output) => addOutput(state, output),
      );
    },
  },

  "output-store": {
    skip(state) {
      const plan = state.stageCache?.plan;
      if (plan && !plan.use) return plan.reason;
      return plan && "reason" in plan.output ? plan.output.reason : undefined;
    },
    async run(state) {
      const cache = need(state.stageCache, "stage cache");
      await storeOutputs(need(state.ctx, "step context"), cache, state.outputs);
    },
  },

  "workspace-cleanup": {
    async run(state) {
      await closeWorkspace(need(state.workspace, "workspace"));
    },
  },
};

export function addOutput(state: BuildState, output: BuildOutput): void {
  state.outputs.push(output);
  state.emit({ type: "output", output });
}
