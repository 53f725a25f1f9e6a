import { HOOK_PHASE_WHERE, type HookPhase } from "@dib/elements";
import { isDiskImageType } from "./build-options.js";

/** Where a step runs: element hooks outside or inside the chroot, or the builder's own work. */
export type StepWhere = "outside" | "chroot" | "builder";

export interface PlannedStep {
  /** `root.d`, `install.d`, … for hook phases; a verb-ish name for the builder's own steps. */
  name: string;
  where: StepWhere;
  /** For hook phases: the hooks directory name without `.d` (`pre-install`). */
  hookPhase?: string;
  /** Hook phases that see TARGET_ROOT (root.d and cleanup.d). */
  targetRoot?: boolean;
}

/** Where the block-device config comes from (§5.10). */
export type BlockDeviceConfigSource = "env" | "element" | "fallback";

export interface BuildPlanInput {
  imageTypes: readonly string[];
  /** The expanded element names (IMAGE_ELEMENT). */
  imageElements: readonly string[];
  installPackages: readonly string[];
  ramdisk: boolean;
  blockDeviceConfig: BlockDeviceConfigSource;
  /**
   * The stage cache is on: restore before root.d (or the finished outputs of an identical
   * build), store after post-install.d and, after the last output, the outputs.
   */
  stageCache?: boolean | undefined;
  /** ARCH is not the host's: its programs run through QEMU's user-mode emulator. */
  foreignArch?: boolean | undefined;
}

export interface BuildPlan {
  /** Whether a block device is made at all (see `planBuild`). */
  disk: boolean;
  /** Final conversions run (no `no-final-image` element, not a ramdisk). */
  convert: boolean;
  /** Outputs made from the finished tree, in the order asked for. */
  treeOutputs: string[];
  /** Outputs converted from the raw disk image, in the order asked for. */
  diskOutputs: string[];
  steps: PlannedStep[];
}

/** Hook phases that see TARGET_ROOT (§1.3). */
const TARGET_ROOT_PHASES: readonly HookPhase[] = ["root.d", "cleanup.d"];

/** A hook phase, run where @dib/elements' HOOK_PHASE_WHERE says. */
function hooks(name: HookPhase): PlannedStep {
  const step: PlannedStep = {
    name,
    where: HOOK_PHASE_WHERE[name],
    hookPhase: name.replace(/\.d$/, ""),
  };
  if (TARGET_ROOT_PHASES.includes(name)) step.targetRoot = true;
  return step;
}

function own(name: string): PlannedStep {
  return { name, where: "builder" };
}

/**
 * The steps of one build in order (§2.2), as data. A build whose outputs are all made from
 * the tree, and whose elements ask for no block-device layout, makes no disk at all: the
 * finalise phases then run on the plain root tree.
 */
export function planBuild(input: BuildPlanInput): BuildPlan {
  const convert = !input.ramdisk && !input.imageElements.includes("no-final-image");
  const treeOutputs = input.imageTypes.filter((t) => !isDiskImageType(t));
  const diskOutputs = convert ? input.imageTypes.filter(isDiskImageType) : [];
  const disk = diskOutputs.length > 0 || input.blockDeviceConfig !== "fallback";

  const steps: PlannedStep[] = [
    own("elements"),
    own("workspace"),
    ...(input.foreignArch ? [own("foreign-arch")] : []),
    own("hooks"),
    own("block-device-init"),
    ...(input.stageCache ? [own("stage-restore")] : []),
    hooks("root.d"),
    own("install-type"),
    hooks("extra-data.d"),
    own("chroot-mount"),
    hooks("pre-install.d"),
    hooks("install.d"),
  ];
  if (input.installPackages.length > 0) steps.push({ name: "install-packages", where: "chroot" });
  steps.push(hooks("post-install.d"));
  if (input.stageCache) steps.push(own("stage-store"));
  steps.push(hooks("post-root.d"), own("root-unmount"));
  if (disk) {
    steps.push(own("size"), hooks("block-device.d"), own("block-device-create"), own("copy"));
  }
  steps.push(
    own("finalise-mount"),
    hooks("pre-finalise.d"),
    hooks("finalise.d"),
    hooks("cleanup.d"),
    own("finalise-base"),
    own("tree-unmount"),
  );
  if (treeOutputs.length > 0) steps.push(own("tree-outputs"));
  if (disk) steps.push(own("block-device-umount"), own("block-device-cleanup"));
  if (diskOutputs.length > 0) steps.push(own("disk-outputs"));
  if (input.stageCache) steps.push(own("output-store"));
  steps.push(own("workspace-cleanup"));
  return { disk, convert, treeOutputs, diskOutputs, steps };
}
