import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { explainKeyChange, type StageKeyInput, stageKey } from "./stage-key.js";

let dir: string;

function file(rel: string, text: string, mode = 0o644): void {
  const path = join(dir, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function input(extra: Partial<StageKeyInput> = {}): StageKeyInput {
  return {
    stage: "post-install.d",
    elements: [
      { name: "os", dir: join(dir, "os") },
      { name: "extra", dir: join(dir, "extra") },
    ],
    variables: { DIB_RELEASE: "bookworm", FOO: "1" },
    release: "bookworm",
    arch: "amd64",
    mirrorIndexes: [{ url: "http://m/dists/bookworm/InRelease", digest: "a".repeat(64) }],
    installType: "source",
    installPackages: [],
    toolVersion: "1.0.0",
    ...extra,
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dib-cache-key-"));
  file("os/root.d/10-unpack", "#!/bin/bash\necho root\n", 0o755);
  file("os/package-installs.yaml", "vim:\n");
  file("os/pkg-map", "{}\n");
  file("os/environment.d/10-os.bash", "export A=1\n");
  file("os/static/etc/motd", "hello\n");
  file("extra/install.d/50-thing", "#!/bin/bash\ntrue\n", 0o755);
  file("extra/finalise.d/90-late", "#!/bin/bash\ntrue\n", 0o755);
  file("extra/cleanup.d/90-late", "#!/bin/bash\ntrue\n", 0o755);
  file("extra/README.md", "words\n");
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("stageKey", () => {
  it("is the same for the same inputs", () => {
    expect(stageKey(input()).key).toBe(stageKey(input()).key);
    expect(stageKey(input()).key).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["a hook script", "os/root.d/10-unpack"],
    ["package-installs", "os/package-installs.yaml"],
    ["pkg-map", "os/pkg-map"],
    ["environment.d", "os/environment.d/10-os.bash"],
    ["a static file", "os/static/etc/motd"],
    ["an install.d script", "extra/install.d/50-thing"],
  ])("changes with one byte of %s", (_what, rel) => {
    const before = stageKey(input());
    file(rel, `${"x"}`, 0o755);
    const after = stageKey(input());
    expect(after.key).not.toBe(before.key);
    expect(explainKeyChange(before.components, after.components)).toEqual([
      `element ${rel.split("/")[0]}: ${rel.split("/").slice(1).join("/")} changed`,
    ]);
  });

  it("changes when a script loses its executable bit (dib-run-parts would skip it)", () => {
    const before = stageKey(input()).key;
    chmodSync(join(dir, "extra/install.d/50-thing"), 0o644);
    expect(stageKey(input()).key).not.toBe(before);
  });

  it("changes with a new file and with what a link leads to", () => {
    const before = stageKey(input()).key;
    file("os/install.d/20-new", "#!/bin/bash\n", 0o755);
    const withNew = stageKey(input()).key;
    expect(withNew).not.toBe(before);
    file("target", "one\n");
    symlinkSync(join(dir, "target"), join(dir, "os/install.d/30-link"));
    const withLink = stageKey(input()).key;
    file("target", "two\n");
    expect(stageKey(input()).key).not.toBe(withLink);
  });

  it("does not change with hooks of phases after the stage", () => {
    const before = stageKey(input()).key;
    file("extra/finalise.d/90-late", "#!/bin/bash\nfalse\n", 0o755);
    file("extra/cleanup.d/91-new", "#!/bin/bash\n", 0o755);
    expect(stageKey(input()).key).toBe(before);
    // …but a finalise.d change does change a key of the finalise.d stage
    expect(stageKey(input({ stage: "finalise.d" })).key).not.toBe(
      stageKey(input({ stage: "post-install.d" })).key,
    );
  });

  it("ignores node_modules inside an element package", () => {
    const before = stageKey(input()).key;
    file("os/node_modules/@dib-elements/x/root.d/10-x", "#!/bin/bash\n", 0o755);
    expect(stageKey(input()).key).toBe(before);
  });

  it("changes with a variable, the mirror index, release, arch, install type, -p and dib's version", () => {
    const base = stageKey(input());
    const variants: Partial<StageKeyInput>[] = [
      { variables: { DIB_RELEASE: "bookworm", FOO: "2" } },
      { variables: { DIB_RELEASE: "bookworm", FOO: "1", NEW: "" } },
      { mirrorIndexes: [{ url: "http://m/dists/bookworm/InRelease", digest: "b".repeat(64) }] },
      { mirrorIndexes: [{ url: "http://other/dists/bookworm/InRelease", digest: "a".repeat(64) }] },
      { release: "trixie" },
      { arch: "arm64" },
      { installType: "package" },
      { installPackages: ["vim"] },
      { toolVersion: "1.0.1" },
    ];
    const keys = variants.map((v) => stageKey(input(v)).key);
    for (const k of keys) expect(k).not.toBe(base.key);
    expect(new Set(keys).size).toBe(keys.length);
    const changed = stageKey(input(variants[0]));
    expect(explainKeyChange(base.components, changed.components)).toEqual(["variable FOO changed"]);
  });

  it("the output stage keys every element file, finalise.d and cleanup.d included, and its settings", () => {
    const output = (extra: Partial<StageKeyInput> = {}) =>
      stageKey(input({ stage: "output", settings: { imageTypes: '["qcow2"]' }, ...extra }));
    const before = output();
    expect(before.key).not.toBe(stageKey(input()).key);
    expect(before.slot).not.toBe(stageKey(input()).slot);
    for (const rel of ["extra/finalise.d/90-late", "extra/cleanup.d/90-late"]) {
      const stage = stageKey(input()).key;
      const was = output();
      file(rel, "#!/bin/bash\nfalse\n", 0o755);
      expect(stageKey(input()).key).toBe(stage);
      const now = output();
      expect(now.key).not.toBe(was.key);
      expect(explainKeyChange(was.components, now.components)).toEqual([
        `element extra: ${rel.slice("extra/".length)} changed`,
      ]);
    }
    const vhd = output({ settings: { imageTypes: '["vhd"]' } });
    expect(explainKeyChange(output().components, vhd.components)).toEqual([
      "setting imageTypes changed",
    ]);
  });

  it("keeps one slot per element set, stage and arch, whatever changed inside", () => {
    const a = stageKey(input());
    const b = stageKey(input({ variables: { FOO: "2" }, toolVersion: "2" }));
    expect(b.slot).toBe(a.slot);
    expect(stageKey(input({ arch: "arm64" })).slot).not.toBe(a.slot);
  });

  it("records digests, never variable values", () => {
    const k = stageKey(input({ variables: { SECRET: "hunter2" } }));
    expect(JSON.stringify(k)).not.toContain("hunter2");
  });
});

describe("explainKeyChange", () => {
  it("lists new, changed and gone components and shortens a long list", () => {
    expect(explainKeyChange({ a: "1", b: "1" }, { a: "2", c: "1" })).toEqual([
      "a changed",
      "c is new",
      "b is gone",
    ]);
    const many = Object.fromEntries([...Array(9).keys()].map((i) => [`v${i}`, "x"]));
    expect(explainKeyChange({}, many, 3)).toEqual([
      "v0 is new",
      "v1 is new",
      "v2 is new",
      "and 6 more",
    ]);
  });
});
