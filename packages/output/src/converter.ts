import type { Writable } from "node:stream";
import type { Host } from "@dib/host";
import type { ChecksumAlgorithm, Digests } from "./checksum.js";
import type { OutputStep } from "./plan.js";
import type { TreeExclusion } from "./tree-exclusions.js";

/** What a converter made, before the file is renamed into place. */
export interface Produced {
  /** Digests computed while the output was written; absent when it must be read to hash. */
  digests?: Digests;
  /** Bytes written, when counted on the way. */
  bytes?: number;
  /** docker into an engine: the image reference and the id the engine gave it. */
  image?: string;
  imageId?: string;
}

export interface ConverterContext {
  host: Host;
  /** Checksums wanted for every output file. */
  algorithms: readonly ChecksumAlgorithm[];
  /** Build time, recorded in image configs and archive member times. */
  now: Date;
}

/** Where one tar-stream output receives the tree's tar stream. */
export interface TarSink {
  input: Writable;
  done: Promise<Produced>;
}

type StepVia<V extends OutputStep["via"]> = Extract<OutputStep, { via: V }>;

/**
 * One converter per way of making an output, behind one interface whose shape depends on
 * what the converter reads. Paths in the steps they receive are absolute.
 */
export type OutputConverter<V extends OutputStep["via"] = OutputStep["via"]> =
  | {
      input: "disk";
      convert(step: StepVia<V>, rawImage: string, context: ConverterContext): Promise<Produced>;
    }
  | {
      input: "tree";
      convert(
        step: StepVia<V>,
        tree: string,
        exclusions: readonly TreeExclusion[],
        context: ConverterContext,
      ): Promise<Produced>;
    }
  | { input: "tar-stream"; open(step: StepVia<V>, context: ConverterContext): TarSink };
