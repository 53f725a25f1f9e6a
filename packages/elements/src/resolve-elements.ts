import { DibError } from "@dib/errors";
import { type ArgToElementsOptions, argToElements } from "./arg-to-elements.js";
import { closeNames } from "./close-names.js";
import { compareNames } from "./compare-names.js";
import { assertElementName } from "./element-name.js";
import { retiredElement } from "./retired-elements.js";

/** What resolution needs to know of an element. */
export interface ElementRelations {
  name: string;
  deps: readonly string[];
  provides: readonly string[];
  /** Where the element lives, for messages. */
  dir?: string;
}

export interface ResolvedElements<T extends ElementRelations> {
  /** The expanded element set, sorted by name: our one resolution order. */
  elements: T[];
  /** Each provided (virtual) name → the element that provides it, sorted by name. */
  provided: Record<string, string>;
  /** The names asked for, without repeats. */
  requested: string[];
  /** For each element that was not asked for, the element whose element-deps first reached it. */
  requiredBy: Record<string, string>;
}

/** The name every build needs exactly one provider of. */
export const OPERATING_SYSTEM = "operating-system";

/**
 * Expands `requested` through element-deps and element-provides as DIB does: a provided
 * name is never looked up as an element, no name may be provided twice, no requested
 * element may be one that another provides, and exactly one element must provide
 * `operating-system`. Cycles and self-dependencies are fine.
 *
 * Pure: `catalog` is what discoverElements found (or any map of names to relations). The
 * result is sorted by element name, whatever the order of the arguments or the discovery.
 */
export function resolveElements<T extends ElementRelations>(
  requested: readonly string[],
  catalog: ReadonlyMap<string, T> | { elements: ReadonlyMap<string, T> },
): ResolvedElements<T> {
  const all = "elements" in catalog ? (catalog.elements as ReadonlyMap<string, T>) : catalog;
  for (const name of requested) assertElementName(name, { what: "element name" });
  const wanted = [...new Set(requested)];
  const final = new Set<string>(wanted);
  const queue = [...wanted];
  const providedBy = new Map<string, string>();
  const requiredBy = new Map<string, string>();

  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (providedBy.has(next)) continue;
    const element = all.get(next);
    if (!element) throw missingElement(next, all, requiredBy);
    for (const name of [...element.provides].sort(compareNames)) {
      assertElementName(name, { file: element.dir && `${element.dir}/element-provides` });
      const earlier = providedBy.get(name);
      if (earlier !== undefined) throw alreadyProvided(name, earlier, element.name);
      providedBy.set(name, element.name);
    }
    for (const dep of [...element.deps].sort(compareNames)) {
      assertElementName(dep, { file: element.dir && `${element.dir}/element-deps` });
      if (!final.has(dep) && !providedBy.has(dep)) {
        queue.push(dep);
        requiredBy.set(dep, element.name);
      }
      final.add(dep);
    }
  }

  const clashes = wanted.filter((name) => providedBy.has(name));
  if (clashes.length > 0) {
    const lines = clashes.map(
      (name) => `${name} : already provided by ['${providedBy.get(name)}']`,
    );
    throw new DibError(
      "DIB_ELEMENT_ALREADY_PROVIDED",
      `The following elements are already provided by another element:\n${lines.join("\n")}`,
      {
        hint: `leave ${clashes.map((n) => `'${n}'`).join(", ")} out of the element list: ${clashes
          .map((n) => `'${providedBy.get(n)}' stands in for '${n}'`)
          .join(", ")}`,
        details: { clashes: Object.fromEntries(clashes.map((n) => [n, providedBy.get(n)])) },
      },
    );
  }
  if (!providedBy.has(OPERATING_SYSTEM)) {
    const systems = [...all.values()]
      .filter((e) => e.provides.includes(OPERATING_SYSTEM))
      .map((e) => e.name)
      .sort(compareNames);
    throw new DibError("DIB_NO_OPERATING_SYSTEM", "Please include an operating system element", {
      hint:
        systems.length > 0
          ? `add one of the elements that provide operating-system: ${systems.join(", ")}`
          : "add an element that provides operating-system (e.g. debian-minimal or ubuntu-minimal); none was found where elements are looked for",
    });
  }

  const names = [...final].filter((name) => !providedBy.has(name)).sort(compareNames);
  return {
    elements: names.map((name) => all.get(name) as T),
    provided: Object.fromEntries([...providedBy].sort(([a], [b]) => compareNames(a, b))),
    requested: wanted,
    requiredBy: Object.fromEntries(
      [...requiredBy]
        .filter(([name]) => names.includes(name))
        .sort(([a], [b]) => compareNames(a, b)),
    ),
  };
}

export interface ResolvedImageElements<T extends ElementRelations> extends ResolvedElements<T> {
  /** The element list a build starts from: the user's names with `base` and `vm`'s layout added (DIB's "Building elements"). */
  elementArgs: string[];
}

/**
 * The element set of an image, as `disk-image-create` (and `dib-cli build`) makes it: DIB's
 * arg_to_elements defaults (`base` unless skipped, the architecture's block-device element
 * for `vm`) applied to the user's names, then resolved. `dib-cli elements resolve` answers
 * with this same function, so it gives the set a build would use.
 */
export function resolveImageElements<T extends ElementRelations>(
  args: readonly string[],
  catalog: ReadonlyMap<string, T> | { elements: ReadonlyMap<string, T> },
  options: ArgToElementsOptions = {},
): ResolvedImageElements<T> {
  const elementArgs = argToElements(args, options);
  return { ...resolveElements(elementArgs, catalog), elementArgs };
}

function missingElement(
  name: string,
  all: ReadonlyMap<string, ElementRelations>,
  requiredBy: ReadonlyMap<string, string>,
): DibError {
  const parent = requiredBy.get(name);
  const parentDir = parent === undefined ? undefined : all.get(parent)?.dir;
  const retired = retiredElement(name);
  if (retired) {
    const where =
      parent === undefined
        ? ""
        : ` '${parent}' still names it (${parentDir ? `${parentDir}/element-deps` : "its element-deps"}).`;
    return new DibError("DIB_ELEMENT_RETIRED", `Element '${name}' was retired: ${retired.why}`, {
      hint: `${retired.instead[0]?.toUpperCase()}${retired.instead.slice(1)}.${where}`,
      file: parentDir && `${parentDir}/element-deps`,
      details: { element: name, requiredBy: parent, instead: retired.instead },
    });
  }
  const suggestions = closeNames(name, all.keys());
  const hints: string[] = [];
  if (suggestions.length > 0)
    hints.push(`Did you mean ${suggestions.map((s) => `'${s}'`).join(" or ")}?`);
  if (parent !== undefined) {
    hints.push(
      `'${parent}' needs it (${parentDir ? `${parentDir}/element-deps` : "its element-deps"}).`,
    );
  }
  hints.push(
    all.size === 0
      ? "No elements were found at all: set ELEMENTS_PATH or install element packages."
      : "Elements come from the ELEMENTS_PATH folders and installed element packages; `dib-cli elements list` shows them.",
  );
  return new DibError("DIB_ELEMENT_NOT_FOUND", `Element '${name}' not found`, {
    hint: hints.join(" "),
    file: parentDir && `${parentDir}/element-deps`,
    details: { element: name, requiredBy: parent, suggestions },
  });
}

function alreadyProvided(name: string, earlier: string, later: string): DibError {
  return new DibError(
    "DIB_ELEMENT_ALREADY_PROVIDED",
    `${name}: already provided by ['${earlier}']`,
    {
      hint:
        name === OPERATING_SYSTEM
          ? `'${earlier}' and '${later}' are both operating-system elements; build with only one of them`
          : `'${earlier}' and '${later}' both provide '${name}'; use only one of them`,
      details: { provided: name, providers: [earlier, later] },
    },
  );
}
