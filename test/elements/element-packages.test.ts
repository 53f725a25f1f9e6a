import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
// The test package does not depend on @dib/elements; its source is imported directly.
import { checkElementPackage, HOOK_PHASES } from "@dib/elements";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { elementsDir, hasCommand, stockElementNames } from "./element-harness.js";

const phases: readonly string[] = HOOK_PHASES;

interface HookScript {
  element: string;
  phase: string;
  name: string;
  path: string;
}

function hookScripts(): HookScript[] {
  const scripts: HookScript[] = [];
  for (const element of stockElementNames()) {
    for (const phase of phases) {
      const dir = join(elementsDir, element, phase);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(dir, name);
        if (statSync(path).isFile()) scripts.push({ element, phase, name, path });
      }
    }
  }
  return scripts;
}

function binScripts(): { element: string; path: string; text: string }[] {
  const found: { element: string; path: string; text: string }[] = [];
  for (const element of stockElementNames()) {
    const dir = join(elementsDir, element, "bin");
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      found.push({ element, path, text: readFileSync(path, "utf8") });
    }
  }
  return found;
}

function environmentFiles(): string[] {
  return stockElementNames().flatMap((element) => {
    const dir = join(elementsDir, element, "environment.d");
    try {
      return readdirSync(dir).map((name) => join(dir, name));
    } catch {
      return [];
    }
  });
}

const bashScripts = () => [
  ...hookScripts().map((s) => s.path),
  ...binScripts()
    .filter((s) => s.text.startsWith("#!/bin/bash"))
    .map((s) => s.path),
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, not a template
const traceLine = 'if [ "${DIB_DEBUG_TRACE:-0}" -gt 0 ]; then set -x; fi';

describe("the stock element packages", () => {
  it("include every element a Debian build needs", () => {
    expect(stockElementNames()).toEqual(
      expect.arrayContaining([
        "base",
        "cache-url",
        "debian",
        "debian-minimal",
        "debootstrap",
        "dib-init-system",
        "dib-run-parts",
        "dpkg",
        "install-bin",
        "install-static",
        "install-types",
        "manifests",
        "modprobe",
        "package-installs",
        "pkg-map",
        "source-repositories",
        "sysprep",
      ]),
    );
  });

  it.each(stockElementNames())("%s is a consistent element package", async (name) => {
    expect(await checkElementPackage(join(elementsDir, name))).toEqual([]);
  });

  it("keep element-deps sorted, as dib-lint asks", () => {
    for (const element of stockElementNames()) {
      let deps: string[];
      try {
        deps = readFileSync(join(elementsDir, element, "element-deps"), "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "");
      } catch {
        continue;
      }
      expect(deps, element).toEqual([...deps].sort());
    }
  });

  it("name every hook so dib-run-parts runs it, and make it executable", () => {
    for (const script of hookScripts()) {
      expect(script.name, script.path).toMatch(/^[0-9]+-[0-9A-Za-z_-]+$/);
      expect(statSync(script.path).mode & 0o111, script.path).not.toBe(0);
    }
  });

  it("never give two elements a hook of the same name in one phase", () => {
    const seen = new Map<string, string>();
    for (const script of hookScripts()) {
      const key = `${script.phase}/${script.name}`;
      expect(seen.get(key), `${key} in ${script.element}`).toBeUndefined();
      seen.set(key, script.element);
    }
  });

  it("start every bash script with the house header", () => {
    for (const path of bashScripts()) {
      const text = readFileSync(path, "utf8");
      const lines = text.split("\n");
      expect(lines[0], path).toBe("#!/bin/bash");
      expect(lines[1], path).toMatch(/^# \S/);
      expect(text, path).toContain(traceLine);
      expect(text, path).toMatch(/^set -eu$/m);
      expect(text, path).toMatch(/^set -o pipefail$/m);
    }
  });

  it("keep bin tools executable", () => {
    for (const script of binScripts()) {
      expect(statSync(script.path).mode & 0o111, script.path).not.toBe(0);
      expect(script.text, script.path).toMatch(/^#!\/(bin\/bash|usr\/bin\/python3)\n/);
    }
  });

  it("keep environment.d files sourced-only: not executable, no set -x, no exit except gates", () => {
    for (const path of environmentFiles()) {
      expect(statSync(path).mode & 0o111, path).toBe(0);
      expect(readFileSync(path, "utf8"), path).not.toMatch(/set -x/);
    }
  });

  it("pass shellcheck", async () => {
    if (!(await hasCommand("shellcheck"))) {
      console.warn("shellcheck is not installed (apt-get install shellcheck): not checked");
      return;
    }
    const result = await execa(
      "shellcheck",
      ["--shell=bash", ...bashScripts(), ...environmentFiles()],
      { reject: false },
    );
    expect(result.stdout).toBe("");
    expect(result.exitCode).toBe(0);
  });

  it("ship python tools that compile", async () => {
    for (const script of binScripts().filter((s) => s.text.startsWith("#!/usr/bin/python3"))) {
      const result = await execa(
        "python3",
        ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])", script.path],
        { reject: false },
      );
      expect(result.stderr, script.path).toBe("");
      expect(result.exitCode).toBe(0);
    }
  });

  it("ship pkg-map files that are JSON", () => {
    for (const element of stockElementNames()) {
      let text: string;
      try {
        text = readFileSync(join(elementsDir, element, "pkg-map"), "utf8");
      } catch {
        continue;
      }
      expect(() => JSON.parse(text), element).not.toThrow();
    }
  });
});
