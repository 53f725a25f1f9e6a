import { mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { join, relative } from "node:path";
import { changedSince, type DirSnapshot, snapshotDir } from "@dib/cache";
import { safeRemove, toDibError } from "@dib/host";
import type { BuildVariables } from "../hook-env.js";
import { CACHED_STAGE, planStageCache, type StageCachePlan } from "../stage-cache.js";
import type { StepContext } from "../step-context.js";

/** What the stage-restore step decided, for the steps after it. */
export interface StageCacheState {
  plan: StageCachePlan;
  /** The tree came from the cache: root.d … post-install.d do not run. */
  restored: boolean;
  /** The build folder (without the tree) before the stage: what the stage adds beside the tree is stored too. */
  before?: DirSnapshot;
}

/** TMP_BUILD_DIR without the tree and the places later steps fill. */
function sideSkip(ctx: StepContext): string[] {
  const ws = ctx.workspace;
  return [ws.mountDir, ws.builtDir, ws.imageDir, join(ws.root, "stage-view")].map((p) =>
    relative(ws.root, p),
  );
}

function tell(ctx: StepContext, line: string): void {
  ctx.emit({ type: "log", line, stream: "builder" });
}

function emptyDir(dir: string): void {
  for (const name of readdirSync(dir)) safeRemove(join(dir, name), { within: dir });
}

/**
 * The stage-restore step: keys the stage and, when a whole entry has that key, unpacks it
 * into the empty root. Says why it did or did not, as an event and a builder line.
 */
export async function restoreStage(
  ctx: StepContext,
  variables: BuildVariables,
): Promise<StageCacheState> {
  const root = ctx.workspace.mountDir;
  const plan = await planStageCache({
    host: ctx.host,
    options: ctx.options,
    workspace: ctx.workspace,
    variables,
    elements: variables.elements.map((e) => ({ name: e.name, dir: e.path })),
    breakpoints: ctx.options.breakpoints,
  });
  if (!plan.use) {
    ctx.emit({ type: "stage-cache", stage: CACHED_STAGE, result: "off", reason: plan.reason });
    tell(ctx, `Stage cache not used: ${plan.reason}`);
    return { plan, restored: false };
  }
  const short = plan.key.key.slice(0, 12);
  let result: Awaited<ReturnType<typeof plan.store.restore>>;
  try {
    // Files the stage left beside the tree (in the hooks folder, say) come back to TMP_BUILD_DIR.
    result = await plan.store.restore(plan.key, root, ctx.workspace.root);
  } catch (error) {
    // Unpacking failed half-way (the disk filled, tar broke): the stage is built instead.
    emptyDir(root);
    plan.store.remove(plan.key.key);
    result = {
      hit: false,
      reason: `the entry could not be unpacked (${toDibError(error).message}); removed and rebuilt`,
      changes: [],
    };
  }
  const key = plan.key.key;
  if (result.hit) {
    ctx.emit({
      type: "stage-cache",
      stage: CACHED_STAGE,
      result: "hit",
      reason: result.reason,
      key,
      bytes: result.bytes,
    });
    tell(
      ctx,
      `Stage cache: reused the tree after ${CACHED_STAGE} (key ${short}; ${result.reason})`,
    );
    return { plan, restored: true };
  }
  ctx.emit({
    type: "stage-cache",
    stage: CACHED_STAGE,
    result: "miss",
    reason: result.reason,
    key,
    changes: result.changes,
  });
  tell(ctx, `Stage cache: building ${CACHED_STAGE} again (key ${short}): ${result.reason}`);
  return { plan, restored: false, before: snapshotDir(ctx.workspace.root, sideSkip(ctx)) };
}

/**
 * The stage-store step: archives the tree as the chroot phases left it. A read-only,
 * non-recursive bind of the root shows the tree without /proc, /dev and /sys mounted in
 * it (the image's own /dev entries included), while the build's mounts stay for
 * post-root.d. A store that fails is reported and the build goes on.
 */
export async function storeStage(ctx: StepContext, state: StageCacheState): Promise<void> {
  if (!state.plan.use) return;
  const { store, key } = state.plan;
  const view = join(ctx.workspace.root, "stage-view");
  mkdirSync(view, { recursive: true });
  const held = await ctx.ledger.mount({
    source: ctx.workspace.mountDir,
    target: view,
    bind: true,
    readOnly: true,
  });
  let result: Awaited<ReturnType<typeof store.store>>;
  const started = Date.now();
  const side = changedSince(
    state.before ?? new Map(),
    snapshotDir(ctx.workspace.root, sideSkip(ctx)),
  );
  try {
    result = await store.store(key, view, { dir: ctx.workspace.root, files: side });
  } finally {
    await ctx.ledger.release(held.seq);
    rmdirSync(view);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (result.stored) {
    ctx.emit({
      type: "stage-cache",
      stage: CACHED_STAGE,
      result: "stored",
      reason: `stored in ${secs} s`,
      key: key.key,
      bytes: result.bytes,
    });
    tell(
      ctx,
      `Stage cache: stored the tree after ${CACHED_STAGE} (${result.bytes} bytes, ${secs} s)`,
    );
  } else {
    ctx.emit({
      type: "stage-cache",
      stage: CACHED_STAGE,
      result: "not-stored",
      reason: result.reason,
      key: key.key,
    });
    tell(ctx, `Stage cache: not stored: ${result.reason}`);
  }
}
