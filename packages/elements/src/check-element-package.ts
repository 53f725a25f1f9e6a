import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isDibError } from "@dib/errors";
import { readElementListFile } from "./element-list-file.js";
import { readElementPackage, STOCK_ELEMENT_SCOPE } from "./element-packages.js";
import { readElement } from "./read-element.js";

export interface ElementPackageProblem {
  file: string;
  message: string;
}

export interface CheckElementPackageOptions {
  /**
   * Element names that stock packages exist for. element-deps naming anything else (a
   * virtual name such as `operating-system` or `block-device`) needs no dependency. By
   * default: the elements of the packages beside `dir`.
   */
  stockElements?: ReadonlySet<string>;
}

/**
 * Checks that a stock element package is consistent: its package.json has
 * `"dib": {"element": NAME}`, the name `@dib-elements/NAME`, the keyword `dib-element`,
 * and a dependency on `@dib-elements/DEP` for exactly the element-deps that are stock
 * packages; it has a README; its package-installs and pkg-map parse; and every hook
 * script would be run by dib-run-parts (executable, well named). Returns the problems.
 */
export async function checkElementPackage(
  dir: string,
  options: CheckElementPackageOptions = {},
): Promise<ElementPackageProblem[]> {
  const manifestFile = join(dir, "package.json");
  const problems: ElementPackageProblem[] = [];
  const problem = (file: string, message: string) => problems.push({ file, message });
  let pkg: Awaited<ReturnType<typeof readElementPackage>>;
  try {
    pkg = await readElementPackage(dir);
  } catch (error) {
    problem(manifestFile, isDibError(error) ? error.message : String(error));
    return problems;
  }
  if (!pkg) {
    problem(manifestFile, 'not an element package: add "dib": {"element": "<name>"}');
    return problems;
  }
  const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as {
    keywords?: unknown;
    dependencies?: Record<string, string>;
  };
  const name = pkg.element;
  if (pkg.packageName !== `${STOCK_ELEMENT_SCOPE}${name}`) {
    problem(
      manifestFile,
      `package name is ${pkg.packageName}, expected ${STOCK_ELEMENT_SCOPE}${name}`,
    );
  }
  if (basename(dir) !== name)
    problem(manifestFile, `folder is ${basename(dir)} but dib.element is ${name}`);
  if (!Array.isArray(manifest.keywords) || !manifest.keywords.includes("dib-element")) {
    problem(manifestFile, 'keywords must include "dib-element"');
  }
  if (!["README.md", "README.rst"].some((f) => existsSync(join(pkg.elementDir, f)))) {
    problem(
      join(pkg.elementDir, "README.md"),
      "missing README.md (what the element does, the variables it reads and their defaults)",
    );
  }

  const stock = options.stockElements ?? (await stockElementsBeside(dir));
  const depsFile = join(pkg.elementDir, "element-deps");
  let deps: string[] = [];
  try {
    deps = await readElementListFile(depsFile);
  } catch (error) {
    problem(depsFile, isDibError(error) ? error.message : String(error));
  }
  const expected = new Set(
    deps.filter((d) => stock.has(d)).map((d) => `${STOCK_ELEMENT_SCOPE}${d}`),
  );
  const declared = new Set(
    Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith(STOCK_ELEMENT_SCOPE)),
  );
  for (const dep of expected) {
    if (!declared.has(dep))
      problem(
        manifestFile,
        `element-deps names ${dep.slice(STOCK_ELEMENT_SCOPE.length)}, but dependencies lack ${dep}`,
      );
  }
  for (const dep of declared) {
    if (!expected.has(dep))
      problem(manifestFile, `dependencies name ${dep}, which element-deps does not`);
  }

  try {
    const element = await readElement({
      name,
      dir: pkg.elementDir,
      source: {
        kind: "package",
        packageName: pkg.packageName,
        version: pkg.version,
        packageDir: pkg.packageDir,
      },
      deps,
      provides: [],
    });
    for (const warning of element.warnings) problem(warning.file, warning.message);
  } catch (error) {
    problem(
      isDibError(error) && error.file ? error.file : dir,
      isDibError(error) ? error.message : String(error),
    );
  }
  return problems;
}

/** The element names of the element packages in the folders beside `dir`. */
export async function stockElementsBeside(dir: string): Promise<Set<string>> {
  const parent = dirname(dir);
  const names = await readdir(parent).catch(() => [] as string[]);
  const found = await Promise.all(
    names.map((n) => readElementPackage(join(parent, n)).catch(() => undefined)),
  );
  return new Set(found.filter((p) => p !== undefined).map((p) => p.element));
}
