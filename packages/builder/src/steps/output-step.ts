import type { Host } from "@dib/host";
import {
  type OutputPlan,
  type OutputResult,
  planOutputs,
  probeOutputHost,
  writeOutputs,
} from "@dib/output";
import type { BuildOutput } from "../build-events.js";
import type { BuildOptions } from "../build-options.js";

export interface OutputInput {
  /** The build's one output plan (planBuildOutputs). */
  plan: OutputPlan;
  /** The types to write now: the tree outputs, or the disk conversions. */
  types: readonly string[];
  /** The finished root tree, for tar, tgz, squashfs, docker and oci. */
  tree?: string | undefined;
  /** The raw disk image, for the conversions. */
  rawImage?: string | undefined;
  /** The image's own mounts below the tree, whose content belongs in tree outputs. */
  keepMounts?: readonly string[];
}

function toBuildOutput(result: OutputResult): BuildOutput {
  return {
    type: result.type,
    path: result.path ?? result.image ?? result.file ?? "",
    bytes: result.bytes,
    checksums: { ...result.checksums },
  };
}

/**
 * The build's outputs, planned once before anything is built: the host is probed (is a
 * docker engine there? vhd-util?) and every `-t` type planned with the build's options,
 * so a bad `--docker-target` or a missing tool stops the build at the start.
 */
export async function planBuildOutputs(
  host: Host,
  options: BuildOptions,
  arch: string,
): Promise<OutputPlan> {
  const facts = await probeOutputHost(host, { types: options.imageTypes });
  return planOutputs(options.imageTypes, {
    imageName: options.imageName,
    hasDisk: true,
    hasTree: true,
    compress: options.compress,
    ...(options.qemuImgOptions !== undefined ? { qemuImgOptions: options.qemuImgOptions } : {}),
    ...(options.env.DIB_QCOW2_COMPRESSION_TYPE
      ? { qcow2CompressionType: options.env.DIB_QCOW2_COMPRESSION_TYPE }
      : {}),
    ...(options.dockerTarget !== undefined ? { dockerTarget: options.dockerTarget } : {}),
    checksum: options.checksums,
    gzipBin: options.gzipBin,
    overwriteOld: options.overwriteOldImage,
    arch,
    dockerEngine: facts.dockerEngine,
    vhdUtil: facts.vhdUtil,
  });
}

/** The part of a plan that writes `types`, stages without any of them dropped. */
function planFor(plan: OutputPlan, types: readonly string[]): OutputPlan {
  const stages = plan.stages
    .map((stage) => ({ ...stage, steps: stage.steps.filter((s) => types.includes(s.type)) }))
    .filter((stage) => stage.steps.length > 0);
  return { ...plan, types: plan.types.filter((t) => types.includes(t)), stages };
}

/** Writes the outputs of one input (§6): tree outputs from the tree, conversions from the raw image. */
export async function outputStep(
  host: Host,
  options: BuildOptions,
  input: OutputInput,
  onOutput: (output: BuildOutput) => void,
): Promise<BuildOutput[]> {
  if (input.types.length === 0) return [];
  const results = await writeOutputs(planFor(input.plan, input.types), {
    host,
    cwd: options.cwd,
    ...(input.tree !== undefined ? { tree: input.tree } : {}),
    ...(input.rawImage !== undefined ? { rawImage: input.rawImage } : {}),
    keepMounts: input.keepMounts ?? [],
    onOutput: (r) => onOutput(toBuildOutput(r)),
  });
  return results.map(toBuildOutput);
}
