import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { DibError } from "@dib/errors";
import { z } from "zod";
import { compareNames } from "./compare-names.js";
import { assertElementName } from "./element-name.js";

/** The scope of the stock element packages dib-cli depends on. */
export const STOCK_ELEMENT_SCOPE = "@dib-elements/";

/** The package.json fields that make a package an element package. */
export const elementPackageManifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  dib: z.object({
    /** The element's name. */
    element: z.string(),
    /** The element folder inside the package; the package root when left out. */
    path: z.string().optional(),
  }),
});
export type ElementPackageManifest = z.infer<typeof elementPackageManifestSchema>;

/** An npm package whose package.json has `"dib": {"element": NAME}`. */
export interface ElementPackage {
  packageName: string;
  version: string;
  /** Absolute, symlinks resolved. */
  packageDir: string;
  manifestFile: string;
  element: string;
  /** The element folder: the package root unless `dib.path` names a folder inside it. */
  elementDir: string;
}

const CODE = "DIB_ELEMENT_PACKAGE_INVALID";

/**
 * Reads `packageDir/package.json`; undefined when it is not an element package. A package
 * that declares `dib.element` but gets it wrong is an error naming its package.json.
 */
export async function readElementPackage(packageDir: string): Promise<ElementPackage | undefined> {
  const manifestFile = join(packageDir, "package.json");
  let text: string;
  try {
    text = await readFile(manifestFile, "utf8");
  } catch {
    return undefined;
  }
  // Most of node_modules is not ours: skip the JSON parse unless the key can be there.
  if (!text.includes('"dib"')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const dib = (json as { dib?: unknown } | null)?.dib;
  if (dib === null || typeof dib !== "object" || !("element" in dib)) return undefined;
  const parsed = elementPackageManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DibError(
      CODE,
      `${manifestFile}: ${issue?.path.join(".") || "package.json"}: ${issue?.message ?? "invalid"}`,
      {
        file: manifestFile,
        hint: 'an element package needs "name" and "dib": {"element": "<element name>"} in its package.json',
      },
    );
  }
  const manifest = parsed.data;
  assertElementName(manifest.dib.element, {
    file: manifestFile,
    what: "element name in dib.element",
  });
  const realPackageDir = await realpath(packageDir);
  const elementDir = await elementFolder(realPackageDir, manifest, manifestFile);
  return {
    packageName: manifest.name,
    version: manifest.version ?? "0.0.0",
    packageDir: realPackageDir,
    manifestFile,
    element: manifest.dib.element,
    elementDir,
  };
}

async function elementFolder(
  packageDir: string,
  manifest: ElementPackageManifest,
  manifestFile: string,
): Promise<string> {
  const declared = manifest.dib.path;
  if (declared === undefined || declared === "" || declared === ".") return packageDir;
  const outside = () =>
    new DibError(
      CODE,
      `${manifest.name} declares dib.path '${declared}', which is outside the package`,
      {
        file: manifestFile,
        hint: "dib.path must name a folder inside the package (or leave it out: then the package root is the element)",
      },
    );
  if (isAbsolute(declared)) throw outside();
  const target = resolve(packageDir, declared);
  if (!isInside(packageDir, target)) throw outside();
  const real = await realpath(target).catch(() => undefined);
  const stats = real ? await stat(real).catch(() => undefined) : undefined;
  if (!real || !stats?.isDirectory()) {
    throw new DibError(
      CODE,
      `${manifest.name} declares dib.path '${declared}', which is not a folder`,
      {
        file: manifestFile,
        hint: `create ${target} or fix dib.path in the package.json`,
      },
    );
  }
  // A symlink inside the package may still lead out of it.
  if (!isInside(packageDir, real)) throw outside();
  return real;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The element packages visible from `from` the way Node resolves packages: the
 * node_modules folder of `from` and of each folder above it, nearest first. Within one
 * node_modules, third-party packages come before the stock `@dib-elements/*` ones, so a
 * package installed to replace a stock element wins even when npm hoists both side by side.
 */
export async function findElementPackages(from: string): Promise<ElementPackage[]> {
  const found: ElementPackage[] = [];
  let dir = resolve(from);
  for (;;) {
    found.push(...(await elementPackagesIn(join(dir, "node_modules"))));
    const parent = dirname(dir);
    if (parent === dir) return found;
    dir = parent;
  }
}

async function elementPackagesIn(nodeModules: string): Promise<ElementPackage[]> {
  const names = await readdir(nodeModules).catch(() => [] as string[]);
  const packageDirs: string[] = [];
  for (const name of names.sort(compareNames)) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) {
      const scoped = await readdir(join(nodeModules, name)).catch(() => [] as string[]);
      for (const inner of scoped.sort(compareNames)) {
        if (!inner.startsWith(".")) packageDirs.push(join(nodeModules, name, inner));
      }
    } else {
      packageDirs.push(join(nodeModules, name));
    }
  }
  const packages = (await Promise.all(packageDirs.map(readElementPackage))).filter(
    (p): p is ElementPackage => p !== undefined,
  );
  const stock = (p: ElementPackage) => (p.packageName.startsWith(STOCK_ELEMENT_SCOPE) ? 1 : 0);
  return packages.sort((a, b) => stock(a) - stock(b));
}
