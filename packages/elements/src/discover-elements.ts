import { readdir, realpath, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DibError } from "@dib/errors";
import { compareNames } from "./compare-names.js";
import type { DiscoveredElement, ElementSource } from "./element.js";
import { readElementListFile } from "./element-list-file.js";
import { isElementName } from "./element-name.js";
import {
  type ElementPackage,
  findElementPackages,
  readElementPackage,
} from "./element-packages.js";

export interface DiscoverOptions {
  /** ELEMENTS_PATH: a colon-separated string or a list of folders that hold element folders. */
  elementsPath?: string | readonly string[] | undefined;
  /**
   * Folders whose node_modules (and those of every folder above) are searched for element
   * packages, in order: typically the current directory, then dib-cli's own package folder
   * (where the stock element packages it depends on are installed).
   */
  searchFrom?: readonly string[];
  /** Element package roots to consider last, e.g. resolved with require.resolve. */
  packageDirs?: readonly string[];
}

/** An element name found in more than one place: the earlier source wins. */
export interface ElementOverride {
  name: string;
  used: Pick<DiscoveredElement, "dir" | "source">;
  shadowed: Pick<DiscoveredElement, "dir" | "source">;
}

/** Every element that can be used, by name. */
export interface ElementCatalog {
  elements: ReadonlyMap<string, DiscoveredElement>;
  /** Elements hidden by one of the same name found earlier (worth a debug line). */
  overrides: ElementOverride[];
}

/** The folders of an ELEMENTS_PATH value; empty entries (`a::b`, a trailing `:`) are ignored. */
export function parseElementsPath(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const entries = typeof value === "string" ? value.split(":") : [...value];
  return entries.filter((entry) => entry !== "");
}

/**
 * Finds every element, earlier sources winning: the ELEMENTS_PATH folders in order, then
 * the element packages visible from each `searchFrom` folder, then `packageDirs`. Reads
 * each element's element-deps and element-provides.
 */
export async function discoverElements(options: DiscoverOptions = {}): Promise<ElementCatalog> {
  const paths = parseElementsPath(options.elementsPath);
  const searchFrom = options.searchFrom ?? [];
  const packageDirs = options.packageDirs ?? [];
  if (paths.length === 0 && searchFrom.length === 0 && packageDirs.length === 0) {
    throw new DibError("DIB_NO_ELEMENT_SOURCES", "$ELEMENTS_PATH must be set.", {
      hint: "set ELEMENTS_PATH to a colon-separated list of folders holding elements, or install element packages",
    });
  }
  const candidates: { name: string; dir: string; source: ElementSource }[] = [];
  for (const entry of paths) candidates.push(...(await elementsInFolder(entry)));
  const packages: ElementPackage[] = [];
  for (const from of searchFrom) packages.push(...(await findElementPackages(from)));
  for (const dir of packageDirs) {
    const found = await readElementPackage(dir);
    if (!found) {
      throw new DibError("DIB_ELEMENT_PACKAGE_INVALID", `${dir} is not an element package`, {
        file: join(dir, "package.json"),
        hint: 'an element package has "dib": {"element": "<name>"} in its package.json',
      });
    }
    packages.push(found);
  }
  for (const p of packages) {
    candidates.push({
      name: p.element,
      dir: p.elementDir,
      source: {
        kind: "package",
        packageName: p.packageName,
        version: p.version,
        packageDir: p.packageDir,
      },
    });
  }

  const winners = new Map<string, { name: string; dir: string; source: ElementSource }>();
  const overrides: ElementOverride[] = [];
  for (const candidate of candidates) {
    const used = winners.get(candidate.name);
    if (!used) winners.set(candidate.name, candidate);
    else if (used.dir !== candidate.dir) {
      overrides.push({
        name: candidate.name,
        used: { dir: used.dir, source: used.source },
        shadowed: { dir: candidate.dir, source: candidate.source },
      });
    }
  }
  const read = await Promise.all(
    [...winners.values()].sort((a, b) => compareNames(a.name, b.name)).map(readRelations),
  );
  return { elements: new Map(read.map((e) => [e.name, e])), overrides };
}

async function elementsInFolder(
  entry: string,
): Promise<{ name: string; dir: string; source: ElementSource }[]> {
  const folder = resolve(entry);
  const stats = await stat(folder).catch(() => undefined);
  if (!stats?.isDirectory()) {
    throw new DibError(
      "DIB_ELEMENTS_PATH_INVALID",
      `ELEMENTS_PATH entry '${entry}' is not a directory`,
      {
        file: folder,
        hint: "ELEMENTS_PATH is a colon-separated list of folders that each hold element folders; remove or fix this entry",
      },
    );
  }
  // A hidden folder (.git) or a name no element list could spell is not an element.
  const names = (await readdir(folder))
    .filter((name) => !name.startsWith(".") && isElementName(name))
    .sort(compareNames);
  const found = await Promise.all(
    names.map(async (name) => {
      const dir = await realpath(join(folder, name)).catch(() => undefined);
      const isDir = dir ? (await stat(dir).catch(() => undefined))?.isDirectory() : false;
      return dir && isDir
        ? { name, dir, source: { kind: "elements-path", entry: folder } as const }
        : undefined;
    }),
  );
  return found.filter((e) => e !== undefined);
}

async function readRelations(element: {
  name: string;
  dir: string;
  source: ElementSource;
}): Promise<DiscoveredElement> {
  const [deps, provides] = await Promise.all([
    readElementListFile(join(element.dir, "element-deps")),
    readElementListFile(join(element.dir, "element-provides")),
  ]);
  return { ...element, deps, provides };
}
