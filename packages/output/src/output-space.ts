import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { formatBytes } from "./format-bytes.js";
import { freeBytes } from "./no-space.js";
import { isOutputType } from "./output-types.js";

/**
 * Compressed outputs are counted at a quarter of the tree: an operating-system tree
 * compresses to a third or more with zlib, gzip and xz, so an output smaller than this is
 * not to be expected. The estimate is a floor: the warning is for targets that clearly
 * cannot hold the image, never a guess that might stop a build that would fit.
 */
const COMPRESSED_FLOOR = 4;

export interface OutputSpaceInput {
  /** `-t`. */
  types: readonly string[];
  /** The root tree's size in KiB (du). */
  treeKiB: number;
  /** qcow2 with `-c` (default true). */
  compress: boolean;
}

/** The least space, in bytes, the outputs of a tree of `treeKiB` take side by side. */
export function estimateOutputBytes(input: OutputSpaceInput): number {
  const tree = input.treeKiB * 1024;
  let total = 0;
  for (const type of input.types) {
    // docker may go into an engine rather than a file here: left out of the floor.
    if (!isOutputType(type) || type === "docker") continue;
    const compressed =
      type === "tgz" ||
      type === "squashfs" ||
      type === "oci" ||
      (type === "qcow2" && input.compress);
    total += compressed ? tree / COMPRESSED_FLOOR : tree;
  }
  return Math.ceil(total);
}

/** The nearest existing directory at or above `path` (where the file system is asked). */
function existingAncestor(path: string): string {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export interface OutputSpaceCheck {
  /** The directory the outputs go to. */
  directory: string;
  freeBytes: number;
  neededBytes: number;
}

/**
 * Compares the free space where `imageName`'s outputs go with estimateOutputBytes, and
 * returns the shortfall when the outputs clearly cannot fit (undefined when they may).
 */
export function checkOutputSpace(
  imageName: string,
  input: OutputSpaceInput,
): OutputSpaceCheck | undefined {
  const directory = dirname(resolve(imageName));
  const free = freeBytes(existingAncestor(directory));
  if (free === undefined) return undefined;
  const needed = estimateOutputBytes(input);
  return needed > free ? { directory, freeBytes: free, neededBytes: needed } : undefined;
}

/** The warning a build prints for a shortfall. */
export function outputSpaceWarning(check: OutputSpaceCheck, types: readonly string[]): string {
  return `${check.directory} has ${formatBytes(check.freeBytes)} free, but the ${types.join(", ")} output${
    types.length > 1 ? "s" : ""
  } of this image need${types.length > 1 ? "" : "s"} at least ${formatBytes(check.neededBytes)}: writing ${types.length > 1 ? "them" : "it"} will fail with "No space left on device" (ENOSPC) unless space is freed there (or use -o elsewhere)`;
}
