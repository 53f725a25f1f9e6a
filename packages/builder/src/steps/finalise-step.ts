import { allowServiceStarts, mountChrootFilesystems, restoreResolvConf } from "@dib/phase-runner";
import type { BuildVariables } from "../hook-env.js";
import { unmountBelow } from "../mount-sweep.js";
import type { StepContext } from "../step-context.js";
import { type TidyReport, tidyTree } from "../tree-tidy.js";
import type { HookTree } from "./hooks-step.js";
import { runHooks } from "./run-hooks.js";

export interface FinaliseInput {
  hooks: HookTree;
  variables: BuildVariables;
  /** The image's own mounts below the tree (left mounted for the outputs). */
  keepMounts: readonly string[];
}

export interface FinalisedTree {
  /** The finished tree: nothing but the image's own filesystems mounted in it. */
  tree: string;
  tidy: TidyReport;
}

/**
 * The last changes to the image (§2.2 steps 16–19, §2.9): pre-finalise.d outside,
 * finalise.d in the chroot (the bootloader goes in here), cleanup.d outside with
 * TARGET_ROOT, then DIB's finalise_base: resolv.conf back, /tmp emptied, logs truncated.
 * Works on the mounted image, or on the plain tree of a build without a disk.
 */
export async function finaliseStep(ctx: StepContext, input: FinaliseInput): Promise<FinalisedTree> {
  const tree = ctx.workspace.mountDir;
  const { hooks, variables } = input;
  const chroot = await ctx.step("finalise-mount", () =>
    mountChrootFilesystems(tree, { host: ctx.host, ledger: ctx.ledger }),
  );
  await ctx.step("pre-finalise.d", () =>
    runHooks(ctx, { hooks, variables, phase: "pre-finalise" }),
  );
  await ctx.step("finalise.d", () =>
    runHooks(ctx, { hooks, variables, phase: "finalise", chroot: tree }),
  );
  await ctx.step("cleanup.d", () => runHooks(ctx, { hooks, variables, phase: "cleanup" }));
  const tidy = await ctx.step("finalise-base", async () => {
    await restoreResolvConf(tree, { host: ctx.host });
    allowServiceStarts(tree);
    return tidyTree(tree, ctx.ledger);
  });
  await ctx.step("tree-unmount", async () => {
    await chroot.release();
    await ctx.host.run(["sync"]);
    await unmountBelow(ctx.ledger, tree, input.keepMounts);
  });
  return { tree, tidy };
}
