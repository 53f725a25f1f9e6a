import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scratch, writeElementPackage, writeElements } from "./__fixtures__/element-tree.js";
import { discoverElements, parseElementsPath } from "./discover-elements.js";
import { describeSource } from "./element.js";
import { findElementPackages } from "./element-packages.js";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const remove of cleanup) remove();
  cleanup = [];
});
function tmp(): string {
  const s = scratch();
  cleanup.push(s.remove);
  return s.dir;
}

describe("parseElementsPath", () => {
  it("splits on colons and drops empty entries", () => {
    expect(parseElementsPath("/a::/b:")).toEqual(["/a", "/b"]);
    expect(parseElementsPath("/foo/bar")).toEqual(["/foo/bar"]);
    expect(parseElementsPath(undefined)).toEqual([]);
  });
});

describe("discoverElements from ELEMENTS_PATH", () => {
  it("finds every element folder with its deps and provides, ignoring comment lines", async () => {
    const root = tmp();
    writeElements(root, {
      os: { provides: ["operating-system"] },
      app: { deps: ["os", "# a comment, not an element", "", "tools"] },
      tools: {},
    });
    const catalog = await discoverElements({ elementsPath: root });
    expect([...catalog.elements.keys()]).toEqual(["app", "os", "tools"]);
    expect(catalog.elements.get("app")?.deps).toEqual(["os", "tools"]);
    expect(catalog.elements.get("os")?.provides).toEqual(["operating-system"]);
    expect(catalog.elements.get("os")?.source).toEqual({ kind: "elements-path", entry: root });
  });

  it("lets an earlier ELEMENTS_PATH entry override a later one and reports the override", async () => {
    const first = tmp();
    const second = tmp();
    writeElements(first, { shared: { deps: ["from-first"] } });
    writeElements(second, { shared: { deps: ["from-second"] }, other: {} });
    const catalog = await discoverElements({ elementsPath: `${first}:${second}` });
    expect(catalog.elements.get("shared")?.dir).toBe(join(first, "shared"));
    expect(catalog.elements.get("shared")?.deps).toEqual(["from-first"]);
    expect(catalog.overrides).toEqual([
      {
        name: "shared",
        used: { dir: join(first, "shared"), source: { kind: "elements-path", entry: first } },
        shadowed: { dir: join(second, "shared"), source: { kind: "elements-path", entry: second } },
      },
    ]);
  });

  it("fails with DIB's message on an entry that is not a directory", async () => {
    const root = tmp();
    writeFileSync(join(root, "file"), "");
    for (const entry of ["/not/a/dir", join(root, "file")]) {
      await expect(discoverElements({ elementsPath: `${root}:${entry}` })).rejects.toMatchObject({
        code: "DIB_ELEMENTS_PATH_INVALID",
        message: `ELEMENTS_PATH entry '${entry}' is not a directory`,
        hint: expect.stringContaining("colon-separated"),
      });
    }
  });

  it("needs somewhere to look", async () => {
    await expect(discoverElements({ elementsPath: "" })).rejects.toMatchObject({
      code: "DIB_NO_ELEMENT_SOURCES",
      message: "$ELEMENTS_PATH must be set.",
    });
  });

  it("skips hidden folders, plain files and symlinks to nothing, and follows symlinked elements", async () => {
    const root = tmp();
    const elsewhere = tmp();
    writeElements(elsewhere, { linked: { deps: ["x"] } });
    writeElements(root, { ".git": {}, real: {} });
    writeFileSync(join(root, "README"), "");
    symlinkSync(join(elsewhere, "linked"), join(root, "linked"));
    symlinkSync(join(root, "nothing"), join(root, "dangling"));
    const catalog = await discoverElements({ elementsPath: [root] });
    expect([...catalog.elements.keys()]).toEqual(["linked", "real"]);
    expect(catalog.elements.get("linked")?.dir).toBe(join(elsewhere, "linked"));
  });

  it("rejects a bad name in element-deps, naming the file and line", async () => {
    const root = tmp();
    writeElements(root, { bad: { deps: ["ok", "../escape"] } });
    await expect(discoverElements({ elementsPath: root })).rejects.toMatchObject({
      code: "DIB_ELEMENT_NAME_INVALID",
      file: join(root, "bad", "element-deps"),
      message: `${join(root, "bad", "element-deps")}:2: '../escape' is not a valid element name`,
    });
  });
});

describe("discoverElements from installed packages", () => {
  it("finds element packages, scoped or not, in node_modules of the folder and every folder above", async () => {
    const project = tmp();
    const nested = join(project, "sub", "dir");
    mkdirSync(nested, { recursive: true });
    writeElementPackage(
      join(project, "node_modules", "@acme", "dib-element-foo"),
      {
        name: "@acme/dib-element-foo",
        version: "2.1.0",
        element: "foo",
      },
      { deps: ["bar"] },
    );
    writeElementPackage(join(project, "node_modules", "dib-element-bar"), {
      name: "dib-element-bar",
      element: "bar",
    });
    writeFileSync(join(project, "node_modules", "not-a-package"), "");
    mkdirSync(join(project, "node_modules", "lodash"));
    writeFileSync(
      join(project, "node_modules", "lodash", "package.json"),
      '{"name":"lodash","version":"4.0.0"}',
    );
    mkdirSync(join(project, "node_modules", "broken"));
    writeFileSync(join(project, "node_modules", "broken", "package.json"), '{"dib": ');

    const catalog = await discoverElements({ searchFrom: [nested] });
    expect([...catalog.elements.keys()]).toEqual(["bar", "foo"]);
    const foo = catalog.elements.get("foo");
    expect(foo?.deps).toEqual(["bar"]);
    expect(foo && describeSource(foo)).toBe("@acme/dib-element-foo@2.1.0");
  });

  it("lets a third-party package in the project override the stock element dib-cli ships", async () => {
    const project = tmp();
    const cli = tmp();
    writeElementPackage(
      join(cli, "node_modules", "@dib-elements", "debian-minimal"),
      {
        name: "@dib-elements/debian-minimal",
        version: "1.0.0",
        element: "debian-minimal",
      },
      { provides: ["operating-system"], deps: ["debootstrap"] },
    );
    writeElementPackage(
      join(project, "node_modules", "@acme", "dib-element-foo"),
      {
        name: "@acme/dib-element-foo",
        version: "0.3.0",
        element: "debian-minimal",
      },
      { provides: ["operating-system"] },
    );

    const catalog = await discoverElements({ searchFrom: [project, cli] });
    const used = catalog.elements.get("debian-minimal");
    expect(used?.source).toMatchObject({ kind: "package", packageName: "@acme/dib-element-foo" });
    expect(used?.deps).toEqual([]);
    expect(catalog.overrides).toHaveLength(1);
    expect(catalog.overrides[0]?.shadowed.source).toMatchObject({
      packageName: "@dib-elements/debian-minimal",
    });
  });

  it("prefers a third-party package over a stock one hoisted into the same node_modules", async () => {
    const project = tmp();
    writeElementPackage(join(project, "node_modules", "@dib-elements", "grub2"), {
      name: "@dib-elements/grub2",
      element: "grub2",
    });
    writeElementPackage(join(project, "node_modules", "@zzz", "my-grub"), {
      name: "@zzz/my-grub",
      element: "grub2",
    });
    const catalog = await discoverElements({ searchFrom: [project] });
    expect(catalog.elements.get("grub2")?.source).toMatchObject({ packageName: "@zzz/my-grub" });
  });

  it("puts ELEMENTS_PATH before packages, and does not count one package reached twice as an override", async () => {
    const project = tmp();
    const paths = tmp();
    const store = tmp();
    writeElements(paths, { foo: {} });
    writeElementPackage(join(store, "pkg-foo"), { name: "pkg-foo", element: "foo" });
    writeElementPackage(join(store, "pkg-bar"), { name: "pkg-bar", element: "bar" });
    mkdirSync(join(project, "node_modules"));
    symlinkSync(join(store, "pkg-foo"), join(project, "node_modules", "pkg-foo"));
    symlinkSync(join(store, "pkg-bar"), join(project, "node_modules", "pkg-bar"));
    const catalog = await discoverElements({
      elementsPath: paths,
      searchFrom: [project],
      packageDirs: [join(store, "pkg-bar")],
    });
    expect(catalog.elements.get("foo")?.source.kind).toBe("elements-path");
    expect(catalog.elements.get("bar")?.dir).toBe(join(store, "pkg-bar"));
    expect(catalog.overrides.map((o) => o.name)).toEqual(["foo"]);
  });

  it("uses dib.path as the element folder when it stays inside the package", async () => {
    const project = tmp();
    writeElementPackage(
      join(project, "node_modules", "multi"),
      {
        name: "multi",
        element: "inner",
        path: "element",
      },
      { deps: ["x"] },
    );
    const catalog = await discoverElements({ searchFrom: [project] });
    expect(catalog.elements.get("inner")?.dir).toBe(
      join(project, "node_modules", "multi", "element"),
    );
  });

  it.each([
    ["a relative path", "../outside"],
    ["an absolute path", "/etc"],
  ])("refuses a package whose dib.path is %s leading out of it", async (_what, path) => {
    const project = tmp();
    const dir = join(project, "node_modules", "sneaky");
    writeElementPackage(dir, { name: "sneaky", element: "sneaky" });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "sneaky", dib: { element: "sneaky", path } }),
    );
    await expect(discoverElements({ searchFrom: [project] })).rejects.toMatchObject({
      code: "DIB_ELEMENT_PACKAGE_INVALID",
      file: join(dir, "package.json"),
      message: `sneaky declares dib.path '${path}', which is outside the package`,
    });
  });

  it("refuses a dib.path symlink that leads out of the package", async () => {
    const project = tmp();
    const outside = tmp();
    const dir = join(project, "node_modules", "sneaky");
    writeElementPackage(dir, { name: "sneaky", element: "sneaky", path: "el" });
    symlinkSync(outside, join(dir, "link"));
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "sneaky", dib: { element: "sneaky", path: "link" } }),
    );
    await expect(discoverElements({ searchFrom: [project] })).rejects.toMatchObject({
      code: "DIB_ELEMENT_PACKAGE_INVALID",
    });
  });

  it.each(["../etc", "a/b", ".."])(
    "refuses a package whose dib.element is the path %s",
    async (element) => {
      const project = tmp();
      const dir = join(project, "node_modules", "evil");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "evil", dib: { element } }));
      await expect(findElementPackages(project)).rejects.toMatchObject({
        code: "DIB_ELEMENT_NAME_INVALID",
        file: join(dir, "package.json"),
      });
    },
  );

  it("refuses an explicit package folder that is not an element package", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "package.json"), '{"name":"plain"}');
    await expect(discoverElements({ packageDirs: [dir] })).rejects.toMatchObject({
      code: "DIB_ELEMENT_PACKAGE_INVALID",
    });
  });
});
