import { readFile } from "node:fs/promises";
import { DibError } from "@dib/errors";
import { z } from "zod";
import { parseDataFile, schemaError } from "./data-file.js";

const names = z.record(z.string(), z.string());

/** An element's `pkg-map` file: generic package names → distribution package names. */
export const pkgMapSchema = z
  .object({
    default: names.optional(),
    family: z.record(z.string(), names).optional(),
    distro: z.record(z.string(), names).optional(),
    release: z.record(z.string(), z.record(z.string(), names)).optional(),
  })
  .strict();
export type PkgMap = z.infer<typeof pkgMapSchema>;

const CODE = "DIB_PKG_MAP_INVALID";
const HINT =
  'pkg-map is JSON: {"default": {name: pkg}, "family": {family: {…}}, "distro": {distro: {…}}, "release": {distro: {release: {…}}}}; every value is a string of space-separated packages, or "" to drop the package';

const FAMILIES: Readonly<Record<string, string>> = {
  almalinux: "redhat",
  centos: "redhat",
  fedora: "redhat",
  openeuler: "redhat",
  rhel: "redhat",
  rocky: "redhat",
  debian: "debian",
  ubuntu: "debian",
  opensuse: "suse",
  gentoo: "gentoo",
};

/** The packaging family of a DISTRO_NAME (`ubuntu` → `debian`), if it has one. */
export function distroFamily(distro: string): string | undefined {
  return FAMILIES[distro];
}

export function parsePkgMap(text: string, file: string): PkgMap {
  const dataFile = parseDataFile(text, file, { code: CODE, hint: HINT });
  const parsed = pkgMapSchema.safeParse(dataFile.data ?? {});
  if (!parsed.success) throw schemaError(dataFile, parsed.error, CODE, HINT);
  return parsed.data;
}

export async function readPkgMap(file: string): Promise<PkgMap> {
  return parsePkgMap(await readFile(file, "utf8"), file);
}

/**
 * The name table that applies to one distribution release: `default`, then the family's,
 * then the distro's, then the release's entries, the most specific winning. A release
 * `N-stream` also picks up the entries of release `N`, more weakly than its own (DIB maps
 * only `8-stream` to `8`, so `release.centos."9"` never matched 9-stream: a QUIRK we fix).
 */
export function pkgMapFor(
  map: PkgMap,
  target: { distro: string; release?: string },
): Record<string, string> {
  const table: Record<string, string> = { ...map.default };
  const family = distroFamily(target.distro);
  if (family) Object.assign(table, map.family?.[family]);
  Object.assign(table, map.distro?.[target.distro]);
  const releases = map.release?.[target.distro];
  if (releases && target.release !== undefined) {
    const major = /^(\d+)-stream$/.exec(target.release)?.[1];
    if (major !== undefined) Object.assign(table, releases[major]);
    Object.assign(table, releases[target.release]);
  }
  return table;
}

export interface MapPackagesOptions {
  distro: string;
  release?: string;
  /** Pass unmapped names through unchanged instead of failing (pkg-map --missing-ok). */
  missingOk?: boolean;
  /** The element the map belongs to, for messages. */
  element?: string;
}

/**
 * Maps generic names to packages as pkg-map does: a value may name several packages
 * (space-separated) or none (""), and an unknown name is an error unless `missingOk`.
 * Without a map every name passes through with `missingOk` and is an error otherwise.
 */
export function mapPackageNames(
  map: PkgMap | undefined,
  requested: readonly string[],
  options: MapPackagesOptions,
): string[] {
  const element = options.element ?? "this element";
  if (map === undefined) {
    if (options.missingOk) return [...requested];
    throw new DibError("DIB_PKG_MAP_MISSING", `${element} has no pkg-map file`, {
      hint: "add a pkg-map file to the element, or map names with --missing-ok",
    });
  }
  const table = pkgMapFor(map, options);
  const packages: string[] = [];
  for (const name of requested) {
    const value = Object.hasOwn(table, name) ? table[name] : undefined;
    if (value === undefined) {
      if (options.missingOk) {
        packages.push(name);
        continue;
      }
      throw new DibError(
        "DIB_PKG_MAP_NO_MAPPING",
        `${element} has no valid mapping for package ${name}`,
        {
          hint: `add '${name}' to the element's pkg-map under default, family.${distroFamily(options.distro) ?? "<family>"}, distro.${options.distro} or release.${options.distro}.${options.release ?? "<release>"}`,
          details: {
            element: options.element,
            package: name,
            distro: options.distro,
            release: options.release,
          },
        },
      );
    }
    packages.push(...value.split(/\s+/).filter((p) => p !== ""));
  }
  return packages;
}
