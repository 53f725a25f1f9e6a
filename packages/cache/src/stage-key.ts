import { HOOK_PHASES, type HookPhase } from "@dib/elements";
import { type ElementSource, elementFileDigests, partsDigest } from "./element-files.js";
import type { MirrorIndex } from "./mirror-index.js";

/** Bumped when the archive layout or what goes into a key changes. */
export const CACHE_FORMAT = "1";

/**
 * The pseudo-stage of a build's finished outputs: everything that feeds the image, all
 * element files (finalise.d, cleanup.d and block-device configs included), so an
 * identical rebuild can copy the stored outputs instead of building them again.
 */
export const OUTPUT_STAGE = "output";

export interface StageKeyInput {
  /** The last hook phase the stage includes, e.g. `post-install.d`; `output` for the finished outputs. */
  stage: HookPhase | typeof OUTPUT_STAGE;
  /** The expanded element set, in the order the build uses it. */
  elements: readonly ElementSource[];
  /** The variables the stage's hooks see, without anything that names this build's own directory. */
  variables: Readonly<Record<string, string>>;
  release: string | undefined;
  arch: string;
  /** The mirror indexes the stage installs from, as fetched for this build. */
  mirrorIndexes: readonly MirrorIndex[];
  installType: string;
  /** `-p` packages. */
  installPackages: readonly string[];
  /** dib's own version (a new dib may run the same hooks differently). */
  toolVersion: string;
  /**
   * Other settings that change the result, by name (for the output stage: `-t`, the image
   * size, the qcow2 options …); each becomes a `setting NAME` component.
   */
  settings?: Readonly<Record<string, string>>;
}

/**
 * A stage's key: one digest of named components. The components are kept (digests only,
 * never variable values) so a miss can say which of them changed since the last entry of
 * the same element set.
 */
export interface StageKey {
  key: string;
  /** Groups the entries of one element set, stage and architecture: what a miss is compared with. */
  slot: string;
  stage: string;
  components: Record<string, string>;
}

/** Hook phase folders that run after `stage` and so cannot change its tree (none for `output`). */
export function laterPhases(stage: string): Set<string> {
  const at = HOOK_PHASES.indexOf(stage as HookPhase);
  return new Set(at < 0 ? [] : HOOK_PHASES.slice(at + 1));
}

/** Computes the key of one stage from everything that can change its tree. */
export function stageKey(input: StageKeyInput): StageKey {
  const components: Record<string, string> = {};
  const skip = laterPhases(input.stage);
  for (const element of input.elements) {
    for (const [rel, d] of elementFileDigests(element, skip)) {
      components[`element ${element.name}: ${rel}`] = d;
    }
  }
  for (const [name, value] of Object.entries(input.variables)) {
    components[`variable ${name}`] = partsDigest(value);
  }
  for (const [name, value] of Object.entries(input.settings ?? {})) {
    components[`setting ${name}`] = partsDigest(value);
  }
  for (const index of input.mirrorIndexes) {
    components[`mirror index ${index.url}`] = index.digest;
  }
  const names = input.elements.map((e) => e.name);
  components["element order"] = partsDigest(...names);
  components.release = partsDigest(input.release ?? "");
  components.architecture = partsDigest(input.arch);
  components["install type"] = partsDigest(input.installType);
  components["-p packages"] = partsDigest(...input.installPackages);
  components["dib version"] = partsDigest(input.toolVersion);
  components["cache format"] = partsDigest(CACHE_FORMAT);
  components.stage = partsDigest(input.stage);
  const sorted = Object.keys(components).sort();
  const key = partsDigest(...sorted.flatMap((k) => [k, components[k] ?? ""]));
  const slot = partsDigest(input.stage, input.arch, ...[...names].sort()).slice(0, 16);
  return { key, slot, stage: input.stage, components };
}

/**
 * Why `now` is not `before`: the components that changed, appeared or went away, most
 * telling first, at most `limit` of them.
 */
export function explainKeyChange(
  before: Record<string, string>,
  now: Record<string, string>,
  limit = 5,
): string[] {
  const changed: string[] = [];
  for (const [name, d] of Object.entries(now)) {
    if (!(name in before)) changed.push(`${name} is new`);
    else if (before[name] !== d) changed.push(`${name} changed`);
  }
  for (const name of Object.keys(before)) {
    if (!(name in now)) changed.push(`${name} is gone`);
  }
  if (changed.length > limit) {
    const rest = changed.length - limit;
    return [...changed.slice(0, limit), `and ${rest} more`];
  }
  return changed;
}
