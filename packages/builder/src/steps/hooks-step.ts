import { applyHookTree, type Element, type HookTreePlan, planHookTreeFor } from "@dib/elements";
import { installHookLibrary } from "@dib/hook-library";

export interface HookTree {
  plan: HookTreePlan;
  /** `install.d/50-foo` → the element it came from, for progress and error messages. */
  scriptElements: Map<string, string>;
}

/**
 * Merges the elements' folders into the build's hooks tree (DIB's generate_hooks, §3.4).
 * A script name used by two elements in one phase is an error here, before anything runs.
 * The hook library that `_LIB` names is copied in too.
 */
export async function hooksStep(elements: readonly Element[], hooksDir: string): Promise<HookTree> {
  const plan = await planHookTreeFor(elements);
  await applyHookTree(plan, hooksDir);
  // $_LIB for every phase: outside at <hooks>/dib-lib, in the chroot through the hooks bind.
  installHookLibrary(hooksDir);
  return { plan, scriptElements: new Map(plan.copies.map((c) => [c.to, c.element])) };
}
