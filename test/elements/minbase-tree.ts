import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectHostClean, type HostSnapshot, hostSnapshot } from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll } from "vitest";
import { lazyTempDir, minbaseTar } from "./element-harness.js";

/** The PATH the builder gives chroot phases inside the image. */
export const chrootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Unpacks the bookworm minbase tree (see element-harness's minbaseTar) into `dir`. */
export async function unpackMinbase(dir: string): Promise<void> {
  await execa("tar", ["-C", dir, "--numeric-owner", "-xpf", minbaseTar]);
}

/**
 * A suite's own temp folder whose host effects are checked: registers a beforeAll that takes
 * a host snapshot and makes the folder, and an afterAll that unmounts `leftovers` (paths in the
 * folder a failed test may have left mounted; a test that passes has unmounted them), fails when a loop
 * device or mount under the folder is left, and removes the folder. Call it inside the
 * describe before the suite's own hooks: vitest runs beforeAll hooks in order and afterAll
 * hooks in reverse, so the suite's setup finds the folder made and its teardown runs first.
 * The folder is removed only when nothing is mounted in it, so a leak never has `rm -r`
 * walk into a mount.
 */
export function useCheckedDir(
  prefix: string,
  options: { leftovers?: string[] } = {},
): { dir: string } {
  const work = lazyTempDir(prefix);
  let before: HostSnapshot;
  beforeAll(() => {
    before = hostSnapshot();
    work.create();
  });
  afterAll(async () => {
    for (const path of options.leftovers ?? []) {
      await execa("umount", [join(work.dir, path)], { reject: false });
    }
    expectHostClean(before, [work.dir]);
    work.remove();
  });
  return { dir: work.dir };
}

/**
 * A bookworm minbase tree unpacked at `<dir>/root` for one suite (a useCheckedDir folder);
 * `leftovers` are paths inside the tree to unmount after a failed test (e.g. "proc").
 */
export function useMinbaseTree(
  prefix: string,
  options: { leftovers?: string[] } = {},
): { dir: string; root: string } {
  const leftovers = (options.leftovers ?? []).map((path) => join("root", path));
  const { dir } = useCheckedDir(prefix, { leftovers });
  const root = join(dir, "root");
  beforeAll(async () => {
    mkdirSync(root);
    await unpackMinbase(root);
  }, 120_000);
  return { dir, root };
}

/**
 * Runs `argv` inside `root` as the builder runs chroot phases: `env -i` with `path` (the
 * chroot PATH unless given) and `env`; with `proc`, /proc is mounted for the run only.
 * Never throws on exit status.
 */
export async function inTree(
  root: string,
  argv: string[],
  env: Record<string, string> = {},
  options: { proc?: boolean; path?: string } = {},
) {
  const run = () =>
    execa(
      "chroot",
      [
        root,
        "/usr/bin/env",
        "-i",
        `PATH=${options.path ?? chrootPath}`,
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...argv,
      ],
      { reject: false },
    );
  if (options.proc !== true) return run();
  await execa("mount", ["-t", "proc", "proc", join(root, "proc")]);
  try {
    return await run();
  } finally {
    await execa("umount", [join(root, "proc")]);
  }
}

/**
 * Copies an element's hook into the tree's /tmp (as `name`, executable) and runs it there with
 * inTree; `bash` runs it as `/bin/bash /tmp/<name>`, as hooks without an exec bit are run.
 */
export function hookInTree(
  root: string,
  script: string,
  env: Record<string, string> = {},
  options: { proc?: boolean; bash?: boolean; name?: string } = {},
) {
  const name = options.name ?? "hook";
  writeFileSync(join(root, "tmp", name), readFileSync(script));
  chmodSync(join(root, "tmp", name), 0o755);
  const argv = options.bash === true ? ["/bin/bash", `/tmp/${name}`] : [`/tmp/${name}`];
  return inTree(root, argv, env, options.proc === undefined ? {} : { proc: options.proc });
}
