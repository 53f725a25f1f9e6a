import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** A file's content, a file with a mode, a symlink, or (with a trailing `/` in the key) a folder. */
export type TreeNode = string | { content: string; mode: number } | { symlink: string };

/** Writes `spec` (relative path → node) below `root`. */
function writeTree(root: string, spec: Record<string, TreeNode>): void {
  for (const [path, node] of Object.entries(spec)) {
    const target = join(root, path);
    if (path.endsWith("/")) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    if (typeof node === "string") writeFileSync(target, node);
    else if ("symlink" in node) symlinkSync(node.symlink, target);
    else {
      writeFileSync(target, node.content);
      chmodSync(target, node.mode);
    }
  }
}

export interface ElementSpec {
  deps?: string[];
  provides?: string[];
  files?: Record<string, TreeNode>;
}

/** Writes one folder per element below `root`, with element-deps / element-provides. */
export function writeElements(root: string, elements: Record<string, ElementSpec>): void {
  for (const [name, spec] of Object.entries(elements)) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    if (spec.deps) writeFileSync(join(dir, "element-deps"), `${spec.deps.join("\n")}\n`);
    if (spec.provides)
      writeFileSync(join(dir, "element-provides"), `${spec.provides.join("\n")}\n`);
    if (spec.files) writeTree(dir, spec.files);
  }
}

/** Writes an npm element package: package.json with `dib.element`, plus element files. */
export function writeElementPackage(
  dir: string,
  manifest: {
    name: string;
    version?: string;
    element: string;
    path?: string;
    extra?: Record<string, unknown>;
  },
  spec: ElementSpec = {},
): void {
  mkdirSync(dir, { recursive: true });
  const dib: Record<string, string> = { element: manifest.element };
  if (manifest.path !== undefined) dib.path = manifest.path;
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify(
      { name: manifest.name, version: manifest.version ?? "1.0.0", dib, ...manifest.extra },
      null,
      2,
    ),
  );
  const elementDir = manifest.path ? join(dir, manifest.path) : dir;
  writeElements(dirname(elementDir), { [basename(elementDir)]: spec });
}

/** A scratch folder, removed by the returned function. */
export function scratch(prefix = "dib-elements-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const EXECUTABLE = 0o755;
export const PLAIN = 0o644;
export const script = (body = "echo hello"): TreeNode => ({
  content: `#!/bin/bash\nset -eu\n${body}\n`,
  mode: EXECUTABLE,
});
