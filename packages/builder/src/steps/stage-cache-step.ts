import { mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { join, relative } from "node:path";
import { changedSince, type DirSnapshot, OUTPUT_STAGE, snapshotDir } from "@dib/cache";
import { safeRemove, toDibError } from "@dib/host";
import type { BuildOutput } from "../build-events.js";
import type { BuildVariables } from "../hook-env.js";
import { CACHED_STAGE, planStageCache, type StageCachePlan } from "../stage-cache.js";
import { collectOutputs, placeOutputs } from "../stage-cache-outputs.js";
import type { StepContext } from "../step-context.js";

/** What the stage-restore step decided, for the steps after it. */
export interface StageCacheState {
  plan: StageCachePlan;
  /** The tree came from the cache: root.d … post-install.d do not run. */
  restored: boolean;
  /** The finished outputs came from the cache: nothing else runs but the clean-up. */
  outputs?: BuildOutput[];
  /** When the build's stages began: outputs elements wrote since then are stored too. */
  startedMs: number;
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
  const startedMs = Date.now();
  if (!plan.use) {
    ctx.emit({ type: "stage-cache", stage: CACHED_STAGE, result: "off", reason: plan.reason });
    tell(ctx, `Stage cache not used: ${plan.reason}`);
    return { plan, restored: false, startedMs };
  }
  const outputs = await restoreOutputs(ctx, plan);
  if (outputs) return { plan, restored: false, outputs, startedMs };
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
    return { plan, restored: true, startedMs };
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
  return {
    plan,
    restored: false,
    startedMs,
    before: snapshotDir(ctx.workspace.root, sideSkip(ctx)),
  };
}

/**
 * The output half of the stage-restore step: when the finished outputs of an identical
 * build are stored, they are put in place under this build's name and the build is done.
 * Says why they were or were not reused.
 */
async function restoreOutputs(
  ctx: StepContext,
  plan: Extract<StageCachePlan, { use: true }>,
): Promise<BuildOutput[] | undefined> {
  const out = plan.output;
  if ("reason" in out) {
    ctx.emit({ type: "stage-cache", stage: OUTPUT_STAGE, result: "off", reason: out.reason });
    tell(ctx, `Output cache not used: ${out.reason}`);
    return undefined;
  }
  const short = out.key.key.slice(0, 12);
  const manifest = plan.store.readManifest(out.key.key);
  let miss: { reason: string; changes: string[] };
  if (manifest?.outputs) {
    let placed: Awaited<ReturnType<typeof placeOutputs>>;
    try {
      placed = await placeOutputs(ctx.host, plan.store, out.key, manifest.outputs, ctx.options);
    } catch (error) {
      // Could not be put in place (the output folder filled, say): the build makes them.
      placed = {
        miss: `the stored outputs could not be put in place (${toDibError(error).message})`,
      };
    }
    if ("outputs" in placed) {
      const reason = `stored ${manifest.created}, ${manifest.bytes} bytes, checksum verified`;
      ctx.emit({
        type: "stage-cache",
        stage: OUTPUT_STAGE,
        result: "hit",
        reason,
        key: out.key.key,
        bytes: manifest.bytes,
      });
      tell(ctx, `Output cache: reused the outputs of an identical build (key ${short}; ${reason})`);
      return placed.outputs;
    }
    miss = { reason: placed.miss, changes: [] };
  } else {
    miss = plan.store.explainMiss(out.key);
  }
  ctx.emit({
    type: "stage-cache",
    stage: OUTPUT_STAGE,
    result: "miss",
    reason: miss.reason,
    key: out.key.key,
    changes: miss.changes,
  });
  tell(ctx, `Output cache: building the image (key ${short}): ${miss.reason}`);
  return undefined;
}

/** Every step after a reuse of the finished outputs is passed over but the clean-up. */
export function reusedOutputsSkip(
  state: StageCacheState | undefined,
  step: string,
): string | undefined {
  if (!state?.outputs || step === "workspace-cleanup" || step === "stage-restore") return undefined;
  return "the outputs came from the output cache";
}

/**
 * The output-store step: after the last output is written, stores the outputs for an
 * identical build to copy. Outputs larger than half of DIB_IMAGE_CACHE_MAX are not
 * stored (they would push every stage out). A store that fails is reported and the
 * build goes on.
 */
export async function storeOutputs(
  ctx: StepContext,
  state: StageCacheState,
  outputs: readonly BuildOutput[],
): Promise<void> {
  const plan = state.plan;
  if (!plan.use || "reason" in plan.output) return;
  const key = plan.output.key;
  const notStored = (reason: string) => {
    ctx.emit({
      type: "stage-cache",
      stage: OUTPUT_STAGE,
      result: "not-stored",
      reason,
      key: key.key,
    });
    tell(ctx, `Output cache: not stored: ${reason}`);
  };
  const found = collectOutputs(outputs, ctx.options, state.startedMs);
  if ("reason" in found) return notStored(found.reason);
  if (found.bytes > plan.store.maxBytes / 2) {
    return notStored(
      `${found.bytes} bytes of outputs is more than half of DIB_IMAGE_CACHE_MAX (${plan.store.maxBytes})`,
    );
  }
  const started = Date.now();
  const result = await plan.store.store(key, found.dir, undefined, {
    files: found.stored.names,
    // outputs are mostly compressed already (qcow2, tgz): the fastest level
    level: 1,
    outputs: found.stored,
  });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (!result.stored) return notStored(result.reason);
  ctx.emit({
    type: "stage-cache",
    stage: OUTPUT_STAGE,
    result: "stored",
    reason: `stored in ${secs} s`,
    key: key.key,
    bytes: result.bytes,
  });
  tell(ctx, `Output cache: stored the outputs (${result.bytes} bytes, ${secs} s)`);
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
