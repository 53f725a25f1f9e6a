import {
  discoverElements,
  type Element,
  type ElementOverride,
  readElement,
  resolveImageElements,
} from "@dib/elements";

export interface ResolveInput {
  /** The element names as the user gave them. */
  elements: readonly string[];
  arch: string;
  skipBase: boolean;
  ramdisk: boolean;
  ramdiskElement: string;
  elementsPath: readonly string[];
  elementSearchFrom: readonly string[];
  elementPackageDirs: readonly string[];
}

export interface ResolvedBuildElements {
  /** What the user's list became (`base` added, `vm`'s default layout): DIB's "Building elements". */
  requested: string[];
  /** The expanded set, fully read, in resolution order (sorted by name). */
  elements: Element[];
  /** IMAGE_ELEMENT's names, in the same order. */
  names: string[];
  /** Elements shadowed by one of the same name found earlier. */
  overrides: ElementOverride[];
}

/**
 * The element set of a build (§3.2, §3.3): the user's list with DIB's defaults applied,
 * found in ELEMENTS_PATH and element packages, expanded through element-deps and
 * element-provides, then each element read in full. Reads files; runs nothing.
 */
export async function resolveStep(input: ResolveInput): Promise<ResolvedBuildElements> {
  const catalog = await discoverElements({
    elementsPath: input.elementsPath,
    searchFrom: input.elementSearchFrom,
    packageDirs: input.elementPackageDirs,
  });
  // The same function answers `dib-cli elements resolve`.
  const resolved = resolveImageElements(input.elements, catalog, {
    arch: input.arch,
    skipBase: input.skipBase,
    ramdiskElement: input.ramdisk ? input.ramdiskElement : undefined,
  });
  const requested = resolved.elementArgs;
  const elements = await Promise.all(resolved.elements.map((e) => readElement(e)));
  return { requested, elements, names: elements.map((e) => e.name), overrides: catalog.overrides };
}
