import { mkdirSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Host } from "@dib/host";
import { checkOutputSpace, outputSpaceWarning } from "@dib/output";
import type { BuildOptions } from "./build-options.js";
import { parseDuTotal } from "./image-size.js";
import type { Workspace } from "./workspace.js";

/** Where the outputs go: `-o` made absolute against the build's working directory. */
function outputBase(options: Pick<BuildOptions, "cwd" | "imageName">): string {
  return resolve(options.cwd, options.imageName);
}

/**
 * The lock file of an output name: `.NAME.dib-lock` beside the outputs, in the real
 * directory, so two spellings of the same `-o` meet at one lock.
 */
function outputLockFile(base: string): string {
  const dir = dirname(base);
  mkdirSync(dir, { recursive: true });
  return join(realpathSync(dir), `.${basename(base)}.dib-lock`);
}

/**
 * Keeps a second build with the same `-o` from writing files beside ours: the lock is in
 * the build's ledger, so it goes with the build however that ends (and `dib-cli cleanup`
 * removes the lock of a killed one; a later build takes over a lock whose build is gone).
 */
export async function lockOutputs(workspace: Workspace, options: BuildOptions): Promise<string> {
  const base = outputBase(options);
  const file = outputLockFile(base);
  await workspace.ledger.lock(file, `the output name ${base}`);
  return file;
}

/**
 * Warns before the image is made when the outputs clearly cannot fit where they go: the
 * tree is measured (or the size step's measure reused) and compared with the free space
 * there. DIB has no such check, so it is a warning, never a refusal.
 */
export async function warnIfOutputsCannotFit(
  host: Host,
  options: BuildOptions,
  tree: string,
  measuredKiB: number | undefined,
  warn: (message: string) => void,
): Promise<void> {
  const types = options.imageTypes.filter((t) => t !== "docker");
  if (types.length === 0) return;
  const treeKiB =
    measuredKiB ??
    parseDuTotal(
      (await host.run(["du", "-s", "-x", "-k", tree], { allowFailure: true })).stdout || "0",
    );
  const check = checkOutputSpace(outputBase(options), {
    types,
    treeKiB,
    compress: options.compress,
  });
  if (check) warn(outputSpaceWarning(check, types));
}
