import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { DibError, safeRemove } from "@dib/host";
import { blockServiceStarts, mountChrootFilesystems, useHostResolvConf } from "@dib/phase-runner";
import type { BuildVariables } from "../hook-env.js";
import { writeInstallTypeFile } from "../install-type.js";
import { unmountBelow } from "../mount-sweep.js";
import type { StepContext } from "../step-context.js";
import type { HookTree } from "./hooks-step.js";
import { runHooks, runInTarget } from "./run-hooks.js";
import { restoreStage, type StageCacheState, storeStage } from "./stage-cache-step.js";

export interface RootInput {
  hooks: HookTree;
  variables: BuildVariables;
  installType: string;
  /** `-p`: installed in the chroot right after install.d. */
  installPackages: readonly string[];
  /** Move the finished tree here (it waits there while the image is made); absent: it stays. */
  moveTo?: string | undefined;
  /** The plan has the stage cache's steps (stage-restore, stage-store). */
  stageCache?: boolean | undefined;
}

export interface RootTree {
  /** The finished root tree, unmounted: nothing of the host is mounted in it. */
  tree: string;
}

/** DIB's check after root.d: a root with nothing but lost+found or tmp was not deployed. */
export function rootWasDeployed(entries: readonly string[]): boolean {
  return entries.some((e) => e !== "lost+found" && e !== "tmp");
}

/**
 * The root filesystem, from nothing to a finished tree (§2.2 steps 3–11): root.d
 * bootstraps it, extra-data.d adds to it from outside, the chroot phases (and `-p`
 * packages) install into it, post-root.d looks at it from outside. Ends with everything
 * unmounted from the tree, ready to be measured and copied.
 */
export async function rootStep(ctx: StepContext, input: RootInput): Promise<RootTree> {
  const root = ctx.workspace.mountDir;
  const { hooks, variables } = input;
  let cache: StageCacheState | undefined;
  if (input.stageCache) {
    cache = await ctx.step("stage-restore", () => restoreStage(ctx, variables));
  }
  const restored = cache?.restored === true;
  // A restored stage stands for these steps: they are passed over, each with an event.
  const stageStep = async (name: string, run: () => Promise<unknown>): Promise<void> => {
    if (!restored) {
      await ctx.step(name, run);
      return;
    }
    if (!ctx.skip) throw new DibError("DIB_INTERNAL", "this step context cannot skip steps");
    ctx.skip(name, "restored from the stage cache");
  };
  await stageStep("root.d", async () => {
    await runHooks(ctx, { hooks, variables, phase: "root" });
    if (!rootWasDeployed(readdirSync(root))) {
      throw new DibError("DIB_ROOT_EMPTY", "Failed to deploy the root element.", {
        hint: "no root.d hook put a filesystem into TARGET_ROOT: is an operating-system element (debian-minimal, ubuntu-minimal …) in the list, and did its root.d run?",
      });
    }
  });
  await ctx.step("install-type", async () => {
    writeInstallTypeFile(ctx.workspace.hooksDir, input.installType);
  });
  await stageStep("extra-data.d", () => runHooks(ctx, { hooks, variables, phase: "extra-data" }));
  const chroot = await ctx.step("chroot-mount", async () => {
    useHostResolvConf(root);
    blockServiceStarts(root);
    return mountChrootFilesystems(root, { host: ctx.host, ledger: ctx.ledger });
  });
  for (const phase of ["pre-install", "install"]) {
    await stageStep(`${phase}.d`, () => runHooks(ctx, { hooks, variables, phase, chroot: root }));
  }
  if (input.installPackages.length > 0) {
    await stageStep("install-packages", () =>
      runInTarget(
        ctx,
        root,
        ["install-packages", ...input.installPackages],
        variables,
        "install-packages",
      ),
    );
  }
  await stageStep("post-install.d", () =>
    runHooks(ctx, { hooks, variables, phase: "post-install", chroot: root }),
  );
  if (cache) {
    const state = cache;
    if (!state.plan.use && ctx.skip) ctx.skip("stage-store", state.plan.reason);
    else await stageStep("stage-store", () => storeStage(ctx, state));
  }
  await ctx.step("post-root.d", () => runHooks(ctx, { hooks, variables, phase: "post-root" }));
  return ctx.step("root-unmount", async () => {
    await chroot.release();
    await unmountBelow(ctx.ledger, root);
    safeRemove(join(root, "lost+found"), { within: root });
    if (input.moveTo === undefined) return { tree: root };
    renameSync(root, input.moveTo);
    mkdirSync(root);
    return { tree: input.moveTo };
  });
}
