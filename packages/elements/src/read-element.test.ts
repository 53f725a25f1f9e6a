import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PLAIN, scratch, script, writeElements } from "./__fixtures__/element-tree.js";
import { selectBlockDeviceConfig } from "./block-device-config.js";
import { discoverElements } from "./discover-elements.js";
import { readElement } from "./read-element.js";

const root = scratch();
afterAll(root.remove);

writeElements(root.dir, {
  full: {
    deps: ["other"],
    provides: ["virtual"],
    files: {
      "README.rst": "====\nfull\n====\n\nDoes everything an element can.\n",
      "root.d/10-make-root": script(),
      "install.d/50-install": script(),
      "install.d/60-skipped.sh": script(),
      "install.d/70-not-executable": { content: "#!/bin/sh\n", mode: PLAIN },
      "install.d/foo-source-install/10-x": script(),
      "finalise.d/99-last": script(),
      "environment.d/10-vars.bash": "export X=1\n",
      "environment.d/bad name": "export Y=1\n",
      "package-installs.yaml": "curl:\nwget:\n  phase: pre-install.d\n",
      "pkg-map": '{"default": {"curl": "curl"}}',
      "block-device-default.yaml": "- local_loop:\n    name: image0\n",
      "block-device-ppc64el.yaml": "- local_loop:\n    name: image0\n",
      "static/etc/motd": "hi\n",
      "bin/tool": script(),
      "source-repository-thing": "thing git /opt/thing https://example.invalid/thing\n",
      "source-repository-thing~": "backup",
    },
  },
  other: { provides: ["operating-system"], files: { "README.md": "# other\n\nThe OS.\n" } },
  plain: {},
});

describe("readElement", () => {
  it("reads every part of an element folder", async () => {
    const catalog = await discoverElements({ elementsPath: root.dir });
    const full = catalog.elements.get("full");
    if (!full) throw new Error("fixture missing");
    const element = await readElement(full);
    const dir = join(root.dir, "full");
    expect(element.deps).toEqual(["other"]);
    expect(element.provides).toEqual(["virtual"]);
    expect(Object.keys(element.hooks).sort()).toEqual(["finalise.d", "install.d", "root.d"]);
    expect(element.hooks["install.d"]?.map((h) => [h.name, h.executable])).toEqual([
      ["50-install", true],
      ["60-skipped.sh", true],
      ["70-not-executable", false],
    ]);
    expect(element.environment.map((e) => e.name)).toEqual(["10-vars.bash", "bad name"]);
    expect(element.packageInstalls[0]?.packages.map((p) => p.name)).toEqual(["curl", "wget"]);
    expect(element.pkgMap).toEqual({
      file: join(dir, "pkg-map"),
      map: { default: { curl: "curl" } },
    });
    expect(element.blockDeviceConfigs).toEqual({
      default: join(dir, "block-device-default.yaml"),
      ppc64el: join(dir, "block-device-ppc64el.yaml"),
    });
    expect(element.staticDir).toBe(join(dir, "static"));
    expect(element.binDir).toBe(join(dir, "bin"));
    expect(element.sourceRepositories.map((s) => s.name)).toEqual(["source-repository-thing"]);
    expect(element.readme).toBe(join(dir, "README.rst"));
    expect(element.summary).toBe("Does everything an element can.");
    expect(element.warnings.map((w) => [w.code, w.file])).toEqual([
      ["DIB_ENVIRONMENT_NAME_SKIPPED", join(dir, "environment.d", "bad name")],
      ["DIB_HOOK_NAME_SKIPPED", join(dir, "install.d", "60-skipped.sh")],
      ["DIB_HOOK_NOT_EXECUTABLE", join(dir, "install.d", "70-not-executable")],
    ]);
    expect(element.warnings[1]?.message).toContain("full/install.d/60-skipped.sh will never run");
  });

  it("reads an empty element", async () => {
    const catalog = await discoverElements({ elementsPath: root.dir });
    const plain = catalog.elements.get("plain");
    if (!plain) throw new Error("fixture missing");
    const element = await readElement(plain);
    expect(element).toMatchObject({
      hooks: {},
      environment: [],
      packageInstalls: [],
      warnings: [],
    });
    expect(element.pkgMap).toBeUndefined();
    expect(element.readme).toBeUndefined();
  });

  it("picks the first element's block-device config for the architecture, else its default", async () => {
    const catalog = await discoverElements({ elementsPath: root.dir });
    const elements = await Promise.all(
      ["other", "full"].map((n) => readElement(catalog.elements.get(n) as never)),
    );
    const dir = join(root.dir, "full");
    expect(selectBlockDeviceConfig(elements, "amd64")).toEqual({
      element: "full",
      file: join(dir, "block-device-default.yaml"),
    });
    expect(selectBlockDeviceConfig(elements, "ppc64le")?.file).toBe(
      join(dir, "block-device-ppc64el.yaml"),
    );
    expect(selectBlockDeviceConfig(elements.slice(0, 1), "amd64")).toBeUndefined();
  });
});
