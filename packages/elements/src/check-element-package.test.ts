import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ElementSpec,
  PLAIN,
  scratch,
  script,
  writeElementPackage,
} from "./__fixtures__/element-tree.js";
import { checkElementPackage, stockElementsBeside } from "./check-element-package.js";
import { discoverElements } from "./discover-elements.js";

const root = scratch();
afterAll(root.remove);

function stockPackage(
  name: string,
  spec: ElementSpec,
  manifest: Record<string, unknown> = {},
): string {
  const dir = join(root.dir, "elements", name);
  writeElementPackage(
    dir,
    {
      name: `@dib-elements/${name}`,
      element: name,
      extra: { keywords: ["dib-element"], ...manifest },
    },
    { ...spec, files: { "README.md": `# ${name}\n\nDoes ${name} things.\n`, ...spec.files } },
  );
  return dir;
}

stockPackage(
  "base",
  { deps: ["pkg-map"] },
  { dependencies: { "@dib-elements/pkg-map": "workspace:^" } },
);
stockPackage("pkg-map", {});
stockPackage("block-device-mbr", { provides: ["block-device"] });
stockPackage(
  "vm",
  { deps: ["block-device", "bootloader-less", "pkg-map"], files: { "finalise.d/50-vm": script() } },
  { dependencies: { "@dib-elements/pkg-map": "workspace:^", "left-pad": "1.0.0" } },
);

describe("checkElementPackage", () => {
  it("passes a consistent stock element package, ignoring deps that are virtual or not stock packages", async () => {
    expect(await checkElementPackage(join(root.dir, "elements", "vm"))).toEqual([]);
    expect(await checkElementPackage(join(root.dir, "elements", "base"))).toEqual([]);
  });

  it("finds the stock element names beside a package", async () => {
    expect([...(await stockElementsBeside(join(root.dir, "elements", "vm")))].sort()).toEqual([
      "base",
      "block-device-mbr",
      "pkg-map",
      "vm",
    ]);
  });

  it("reports every inconsistency with the file to fix", async () => {
    const dir = stockPackage(
      "messy",
      {
        deps: ["pkg-map"],
        files: {
          "README.md": "",
          "install.d/10-lazy": { content: "#!/bin/sh\n", mode: PLAIN },
          "install.d/20-named.sh": script(),
          "package-installs.yaml": "x:\n  phase: nowhere\n",
        },
      },
      { keywords: [], dependencies: { "@dib-elements/base": "workspace:^" } },
    );
    const problems = await checkElementPackage(dir);
    expect(problems.map((p) => p.message)).toEqual([
      'keywords must include "dib-element"',
      "element-deps names pkg-map, but dependencies lack @dib-elements/pkg-map",
      "dependencies name @dib-elements/base, which element-deps does not",
      expect.stringMatching(/package-installs\.yaml:2: .*at x\.phase$/),
    ]);
    expect(problems[0]?.file).toBe(join(dir, "package.json"));
  });

  it("reports bad hooks, a missing README and a wrong package name", async () => {
    const dir = join(root.dir, "elements", "hooky");
    writeElementPackage(
      dir,
      { name: "hooky", element: "hooky", extra: { keywords: ["dib-element"] } },
      {
        files: {
          "install.d/10-lazy": { content: "#!/bin/sh\n", mode: PLAIN },
          "install.d/20-named.sh": script(),
        },
      },
    );
    const problems = await checkElementPackage(dir);
    expect(problems.map((p) => p.message)).toEqual([
      "package name is hooky, expected @dib-elements/hooky",
      expect.stringContaining("missing README.md"),
      expect.stringContaining("hooky/install.d/10-lazy will never run: it is not executable"),
      expect.stringContaining("hooky/install.d/20-named.sh will never run"),
    ]);
  });

  it("reports a folder that is not an element package", async () => {
    const dir = join(root.dir, "elements", "bare");
    writeElementPackage(dir, { name: "@dib-elements/bare", element: "bare" });
    writeFileSync(join(dir, "package.json"), '{"name": "@dib-elements/bare"}');
    expect((await checkElementPackage(dir)).map((p) => p.message)).toEqual([
      'not an element package: add "dib": {"element": "<name>"}',
    ]);
  });
});

const stockDir = fileURLToPath(new URL("../../../elements/", import.meta.url));
const stockPackages = existsSync(stockDir)
  ? readdirSync(stockDir)
      .filter((name) => existsSync(join(stockDir, name, "package.json")))
      .sort()
  : [];

describe("the stock element packages", () => {
  if (stockPackages.length === 0) {
    it.skip(`(skipped: no element package with a package.json in ${stockDir} yet)`, () => {});
  }
  it.each(stockPackages)("%s is a consistent element package", async (name) => {
    expect(await checkElementPackage(join(stockDir, name))).toEqual([]);
  });
});

describe("the stock element set", () => {
  it.skipIf(stockPackages.length === 0)(
    `names in element-deps are stock elements or provided by one${stockPackages.length ? "" : " (skipped: no stock packages yet)"}`,
    async () => {
      const catalog = await discoverElements({
        packageDirs: stockPackages.map((n) => join(stockDir, n)),
      });
      const provided = new Set([...catalog.elements.values()].flatMap((e) => e.provides));
      const dangling = [...catalog.elements.values()].flatMap((e) =>
        e.deps
          .filter((d) => !catalog.elements.has(d) && !provided.has(d))
          .map((d) => `${e.name} → ${d}`),
      );
      expect(dangling).toEqual([]);
    },
  );
});
