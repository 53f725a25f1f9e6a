import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PLAIN, scratch, script, writeElements } from "./__fixtures__/element-tree.js";
import { applyHookTree, planHookTree, planHookTreeFor, readElementTree } from "./hook-tree.js";

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
const el = (root: string, name: string) => ({ name, dir: join(root, name) });

describe("planHookTree", () => {
  it("merges every element's folders and top-level files into one tree, later top-level files winning", async () => {
    const root = tmp();
    writeElements(root, {
      a: {
        deps: ["b"],
        files: {
          "README.rst": "a",
          "install.d/10-a": script(),
          "install.d/a-source-install/10-x": script(),
          "environment.d/10-a": "export A=1\n",
          "static/etc/shared": "from a",
        },
      },
      b: {
        files: {
          "README.rst": "b",
          "install.d/20-b": script(),
          "install.d/b-source-install/10-x": script(),
          "static/etc/shared": "from b",
          "pkg-map": "{}",
        },
      },
    });
    const plan = await planHookTreeFor([el(root, "a"), el(root, "b")]);
    expect(plan.dirs).toEqual([
      "environment.d",
      "install.d",
      "install.d/a-source-install",
      "install.d/b-source-install",
      "static",
      "static/etc",
    ]);
    expect(plan.copies.map((c) => `${c.to} <- ${c.element}`)).toEqual([
      "README.rst <- b",
      "element-deps <- a",
      "environment.d/10-a <- a",
      "install.d/10-a <- a",
      "install.d/20-b <- b",
      "install.d/a-source-install/10-x <- a",
      "install.d/b-source-install/10-x <- b",
      "pkg-map <- b",
      "static/etc/shared <- b",
    ]);
    expect(plan.overwritten).toEqual([
      { to: "README.rst", element: "a", by: "b" },
      { to: "static/etc/shared", element: "a", by: "b" },
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it("fails with DIB's message when two elements ship the same hook script", async () => {
    const root = tmp();
    writeElements(root, {
      first: { files: { "finalise.d/50-bootloader": script() } },
      second: { files: { "finalise.d/50-bootloader": script() } },
    });
    const trees = await Promise.all([
      readElementTree(el(root, "first")),
      readElementTree(el(root, "second")),
    ]);
    expect(() => planHookTree(trees)).toThrow(
      expect.objectContaining({
        code: "DIB_DUPLICATE_HOOK",
        message: "There is a duplicated hook in your elements: second/finalise.d/50-bootloader",
        file: join(root, "second", "finalise.d", "50-bootloader"),
        hint: expect.stringContaining(
          `'first' has finalise.d/50-bootloader too (${join(root, "first", "finalise.d", "50-bootloader")})`,
        ),
      }),
    );
  });

  it("warns about hook scripts dib-run-parts would skip", async () => {
    const root = tmp();
    writeElements(root, {
      w: {
        files: {
          "install.d/10-foo.sh": script(),
          "install.d/20-lazy": { content: "#!/bin/sh\n", mode: PLAIN },
          "install.d/30-fine": script(),
          "environment.d/a:b": "",
          "static/10-foo.sh": "not a hook",
        },
      },
    });
    const plan = await planHookTreeFor([el(root, "w")]);
    expect(plan.warnings.map((w) => [w.code, w.file])).toEqual([
      ["DIB_ENVIRONMENT_NAME_SKIPPED", join(root, "w", "environment.d", "a:b")],
      ["DIB_HOOK_NAME_SKIPPED", join(root, "w", "install.d", "10-foo.sh")],
      ["DIB_HOOK_NOT_EXECUTABLE", join(root, "w", "install.d", "20-lazy")],
    ]);
  });

  it("leaves out tests/, __pycache__/, node_modules/, *.pyc and hidden top-level entries, and follows symlinks", async () => {
    const root = tmp();
    const shared = tmp();
    writeFileSync(join(shared, "common-script"), "#!/bin/sh\n", { mode: 0o755 });
    mkdirSync(join(shared, "dir"));
    writeFileSync(join(shared, "dir", "inside"), "x");
    writeElements(root, {
      e: {
        files: {
          "tests/test_x.py": "",
          "__pycache__/x.pyc": "",
          "node_modules/@dib-elements/other/package.json": "{}",
          "helper.pyc": "",
          ".gitignore": "",
          "static/root/.bashrc": "kept",
          "post-install.d/": "",
          "loop/": "",
        },
      },
    });
    symlinkSync(join(shared, "common-script"), join(root, "e", "post-install.d", "10-linked"));
    symlinkSync(join(shared, "dir"), join(root, "e", "static", "linked-dir"));
    symlinkSync("..", join(root, "e", "loop", "up"));
    symlinkSync(join(root, "nowhere"), join(root, "e", "post-install.d", "20-dangling"));
    const tree = await readElementTree(el(root, "e"));
    expect(tree.entries.map((e) => e.path)).toEqual([
      "loop",
      "post-install.d",
      "post-install.d/10-linked",
      "static",
      "static/linked-dir",
      "static/linked-dir/inside",
      "static/root",
      "static/root/.bashrc",
    ]);
    expect(tree.warnings.map((w) => w.code)).toEqual(["DIB_DANGLING_SYMLINK"]);
  });
});

describe("applyHookTree", () => {
  it("copies the planned files with their modes, following symlinks", async () => {
    const root = tmp();
    const hooks = join(tmp(), "hooks");
    writeElements(root, {
      a: {
        files: {
          "root.d/10-a": script("echo a"),
          "static/etc/conf": { content: "c", mode: 0o600 },
        },
      },
      b: { files: { "root.d/20-b": script("echo b") } },
    });
    symlinkSync(join(root, "a", "root.d", "10-a"), join(root, "b", "root.d", "30-link"));
    const plan = await planHookTreeFor([el(root, "a"), el(root, "b")]);
    await applyHookTree(plan, hooks);
    expect(readdirSync(join(hooks, "root.d")).sort()).toEqual(["10-a", "20-b", "30-link"]);
    expect(statSync(join(hooks, "root.d", "20-b")).mode & 0o777).toBe(0o755);
    expect(statSync(join(hooks, "static", "etc", "conf")).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(hooks, "root.d", "30-link")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(hooks, "root.d", "30-link"), "utf8")).toContain("echo a");
  });
});
