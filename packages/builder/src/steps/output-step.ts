import type { Host } from "@dib/host";
import { type OutputResult, planOutputs, probeOutputHost, writeOutputs } from "@dib/output";
import type { BuildOutput } from "../build-events.js";
import type { BuildOptions } from "../build-options.js";

export interface OutputInput {
  types: readonly string[];
  /** The finished root tree, for tar, tgz, squashfs, docker and oci. */
  tree?: string | undefined;
  /** The raw disk image, for the conversions. */
  rawImage?: string | undefined;
  /** The image's own mounts below the tree, whose content belongs in tree outputs. */
  keepMounts?: readonly string[];
  arch: string;
}

export function toBuildOutput(result: OutputResult): BuildOutput {
  return {
    type: result.type,
    path: result.path ?? result.image ?? result.file ?? "",
    bytes: result.bytes,
    checksums: { ...result.checksums },
  };
}

/** Writes the outputs of one input (§6): tree outputs from the tree, conversions from the raw image. */
export async function outputStep(
  host: Host,
  options: BuildOptions,
  input: OutputInput,
  onOutput: (output: BuildOutput) => void,
): Promise<BuildOutput[]> {
  if (input.types.length === 0) return [];
  const facts = await probeOutputHost(host, { types: input.types });
  const plan = planOutputs(input.types, {
    imageName: options.imageName,
    hasDisk: input.rawImage !== undefined,
    hasTree: input.tree !== undefined,
    compress: options.compress,
    ...(options.qemuImgOptions !== undefined ? { qemuImgOptions: options.qemuImgOptions } : {}),
    ...(options.env.DIB_QCOW2_COMPRESSION_TYPE
      ? { qcow2CompressionType: options.env.DIB_QCOW2_COMPRESSION_TYPE }
      : {}),
    ...(options.dockerTarget !== undefined ? { dockerTarget: options.dockerTarget } : {}),
    checksum: options.checksums,
    gzipBin: options.gzipBin,
    overwriteOld: options.overwriteOldImage,
    arch: input.arch,
    dockerEngine: facts.dockerEngine,
    vhdUtil: facts.vhdUtil,
  });
  const results = await writeOutputs(plan, {
    host,
    cwd: options.cwd,
    ...(input.tree !== undefined ? { tree: input.tree } : {}),
    ...(input.rawImage !== undefined ? { rawImage: input.rawImage } : {}),
    keepMounts: input.keepMounts ?? [],
    onOutput: (r) => onOutput(toBuildOutput(r)),
  });
  return results.map(toBuildOutput);
}
