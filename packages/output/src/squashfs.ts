import type { OutputConverter } from "./converter.js";
import type { OutputStep } from "./plan.js";
import { squashfsExcludeArguments, type TreeExclusion } from "./tree-exclusions.js";

type SquashfsStep = Extract<OutputStep, { via: "mksquashfs" }>;

/** mksquashfs of the tree, without proc/sys contents and host mounts. */
export function mksquashfsArgv(
  step: SquashfsStep,
  tree: string,
  exclusions: readonly TreeExclusion[],
): string[] {
  return [
    "mksquashfs",
    tree,
    step.temp,
    "-comp",
    step.compressor,
    "-noappend",
    "-no-recovery",
    "-no-progress",
    "-wildcards",
    ...squashfsExcludeArguments(exclusions),
  ];
}

/** `-t squashfs`: mksquashfs writes the file itself; it is hashed by reading it afterwards. */
export const squashfsConverter: OutputConverter<"mksquashfs"> = {
  input: "tree",
  async convert(step, tree, exclusions, { host }) {
    await host.run(mksquashfsArgv(step, tree, exclusions));
    return {};
  },
};
