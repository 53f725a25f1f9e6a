import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The library's folder name inside the build's hooks tree. */
export const HOOK_LIBRARY_FOLDER = "dib-lib";

/** `_LIB` inside the chroot: the hooks tree is bound read-only at /tmp/in_target.d. */
export const IN_TARGET_HOOK_LIBRARY = `/tmp/in_target.d/${HOOK_LIBRARY_FOLDER}`;

/**
 * The files hooks source or run from `$_LIB`: DIB's, under DIB's names, and dib's own
 * `tree-mounts` (binds into the image tree through the build's ledger).
 */
export const HOOK_LIBRARY_FILES = [
  "common-defaults",
  "common-functions",
  "die",
  "img-defaults",
  "img-functions",
  "outfilter",
  "ramdisk-defaults",
  "ramdisk-functions",
  "tree-mounts",
] as const;

/** Where the sudo stand-in lives inside a library folder (put first on an outside PATH). */
export const SHIMS_FOLDER = "shims";

/** The package's own folder: above src/ from source, above dist/ when built. */
function packageDir(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

/** The shell library as shipped in this package (lib/). */
export function hookLibraryDir(): string {
  return join(packageDir(), "lib");
}

/** The folder holding the `sudo` stand-in for root builds. */
export function sudoShimDir(): string {
  return join(packageDir(), SHIMS_FOLDER);
}

/** dib-run-parts, from the dib-run-parts element, so `$_LIB/dib-run-parts` is the runner images get. */
function runPartsScript(): string {
  const require = createRequire(import.meta.url);
  return join(
    dirname(require.resolve("@dib-elements/dib-run-parts/package.json")),
    "bin",
    "dib-run-parts",
  );
}

function copyExecutable(from: string, to: string): void {
  copyFileSync(from, to);
  chmodSync(to, statSync(from).mode & 0o777);
}

/**
 * Copies the library into `<hooksDir>/dib-lib` (with `shims/sudo` and `dib-run-parts`), so
 * one copy serves as `_LIB` outside the chroot and, through the read-only bind of the hooks
 * tree, as /tmp/in_target.d/dib-lib inside it. Returns the folder.
 */
export function installHookLibrary(hooksDir: string): string {
  const dest = join(hooksDir, HOOK_LIBRARY_FOLDER);
  mkdirSync(join(dest, SHIMS_FOLDER), { recursive: true });
  for (const name of HOOK_LIBRARY_FILES)
    copyExecutable(join(hookLibraryDir(), name), join(dest, name));
  for (const name of readdirSync(sudoShimDir())) {
    copyExecutable(join(sudoShimDir(), name), join(dest, SHIMS_FOLDER, name));
  }
  copyExecutable(runPartsScript(), join(dest, "dib-run-parts"));
  return dest;
}
