import type { Dirent, Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { compareNames } from "./compare-names.js";
import type { DiscoveredElement, Element, ElementFile, ElementHook } from "./element.js";
import { HOOK_PHASES } from "./element.js";
import {
  type ElementWarning,
  environmentFileWarning,
  hookScriptWarning,
} from "./hook-script-rules.js";
import { readPackageInstalls } from "./package-installs-file.js";
import { readPkgMap } from "./pkg-map.js";
import { readmeSummary } from "./readme-summary.js";

const PHASES: ReadonlySet<string> = new Set(HOOK_PHASES);
const READMES = ["README.rst", "README.md", "README"];
const BLOCK_DEVICE_CONFIG = /^block-device-(.+)\.yaml$/;

interface Entry {
  name: string;
  path: string;
  /** undefined for a dangling symlink. */
  stats: Stats | undefined;
}

/**
 * Reads everything an element directory holds: hooks per phase, environment.d,
 * package-installs, pkg-map, block-device configs, static/, bin/, source repositories and
 * the README. Malformed package-installs or pkg-map files are errors naming file and line;
 * hooks that would never run are returned as warnings.
 */
export async function readElement(element: DiscoveredElement): Promise<Element> {
  const entries = await listFollowingLinks(element.dir);
  const warnings: ElementWarning[] = [];
  const hooks: Record<string, ElementHook[]> = {};
  const environment: ElementFile[] = [];
  const blockDeviceConfigs: Record<string, string> = {};
  const sourceRepositories: ElementFile[] = [];
  const result: Element = {
    ...element,
    hooks,
    environment,
    packageInstalls: await readPackageInstalls(element.dir),
    blockDeviceConfigs,
    sourceRepositories,
    warnings,
  };
  for (const entry of entries) {
    if (entry.stats === undefined) {
      warnings.push(danglingLink(element.name, entry.path));
      continue;
    }
    if (entry.stats.isDirectory()) {
      if (PHASES.has(entry.name)) {
        const scripts = await listFollowingLinks(entry.path);
        hooks[entry.name] = [];
        for (const script of scripts) {
          if (script.stats === undefined) {
            warnings.push(danglingLink(element.name, script.path));
            continue;
          }
          if (!script.stats.isFile()) continue;
          const executable = (script.stats.mode & 0o111) !== 0;
          hooks[entry.name]?.push({
            name: script.name,
            file: script.path,
            phase: entry.name,
            executable,
          });
          const warning = hookScriptWarning(
            element.name,
            entry.name,
            script.name,
            script.path,
            script.stats.mode,
          );
          if (warning) warnings.push(warning);
        }
      } else if (entry.name === "environment.d") {
        for (const file of await listFollowingLinks(entry.path)) {
          if (!file.stats?.isFile()) continue;
          environment.push({ name: file.name, file: file.path });
          const warning = environmentFileWarning(element.name, file.name, file.path);
          if (warning) warnings.push(warning);
        }
      } else if (entry.name === "static") {
        result.staticDir = entry.path;
      } else if (entry.name === "bin") {
        result.binDir = entry.path;
      }
      continue;
    }
    if (!entry.stats.isFile()) continue;
    const blockDevice = BLOCK_DEVICE_CONFIG.exec(entry.name);
    if (blockDevice?.[1]) blockDeviceConfigs[blockDevice[1]] = entry.path;
    else if (entry.name.startsWith("source-repository-") && !entry.name.endsWith("~")) {
      sourceRepositories.push({ name: entry.name, file: entry.path });
    } else if (entry.name === "pkg-map") {
      result.pkgMap = { file: entry.path, map: await readPkgMap(entry.path) };
    }
  }
  const readme = READMES.map((name) =>
    entries.find((e) => e.name === name && e.stats?.isFile()),
  ).find(Boolean);
  if (readme) result.readme = readme.path;
  const summary =
    (await packageDescription(element)) ??
    (readme ? readmeSummary(await readFile(readme.path, "utf8"), element.name) : undefined);
  if (summary !== undefined) result.summary = summary;
  return result;
}

/** An element package's `description` (one sentence written to be a summary), if any. */
async function packageDescription(element: {
  source?: DiscoveredElement["source"];
}): Promise<string | undefined> {
  if (element.source?.kind !== "package") return undefined;
  const text = await readFile(join(element.source.packageDir, "package.json"), "utf8").catch(
    () => undefined,
  );
  if (text === undefined) return undefined;
  try {
    const description = (JSON.parse(text) as { description?: unknown }).description;
    return typeof description === "string" && description.trim() !== ""
      ? description.trim()
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An element's one-line summary, without reading the rest of the element: its package's
 * `description`, else the first line of its README (ELEMENTS_PATH elements).
 */
export async function readElementSummary(element: {
  name: string;
  dir: string;
  source?: DiscoveredElement["source"];
}): Promise<string | undefined> {
  const described = await packageDescription(element);
  if (described !== undefined) return described;
  for (const name of READMES) {
    const text = await readFile(join(element.dir, name), "utf8").catch(() => undefined);
    if (text !== undefined) return readmeSummary(text, element.name);
  }
  return undefined;
}

/** The entries of a directory by name, with symlinks followed as DIB's `find -follow` does. */
export async function listFollowingLinks(dir: string): Promise<Entry[]> {
  const dirents: Dirent[] = await readdir(dir, { withFileTypes: true });
  const entries = await Promise.all(
    dirents.map(async (dirent) => {
      const path = join(dir, dirent.name);
      const stats = await stat(path).catch(() => undefined);
      return { name: dirent.name, path, stats };
    }),
  );
  return entries.sort((a, b) => compareNames(a.name, b.name));
}

function danglingLink(element: string, file: string): ElementWarning {
  return {
    code: "DIB_DANGLING_SYMLINK",
    element,
    file,
    message: `${file} is a symlink to nothing; it is left out`,
  };
}
