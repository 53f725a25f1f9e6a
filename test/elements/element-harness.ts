import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hookLibraryDir } from "@dib/hook-library";
import { execa } from "execa";

/**
 * A bookworm minbase tree made with mmdebstrap (scripts/make-test-minbase.sh), for the hook
 * tests that run in a real root tree without the network.
 */
export const minbaseTar =
  process.env.DIB_TEST_MINBASE_TAR ?? "/var/cache/dib-dev/bookworm-minbase.tar";
export const haveMinbase = existsSync(minbaseTar);
/** Why a test that needs the minbase tree skips, or "". */
export const minbaseSkipReason = haveMinbase
  ? ""
  : ` (skipped: ${minbaseTar} is missing; scripts/make-test-minbase.sh makes it)`;

/** The stock element packages, each folder an element. */
export const elementsDir = fileURLToPath(new URL("../../elements", import.meta.url));

/** The names of the stock elements (folders with a package.json). */
export function stockElementNames(): string[] {
  return readdirSync(elementsDir)
    .filter((name) => statSync(join(elementsDir, name)).isDirectory())
    .sort();
}

/** Absolute path of a file inside a stock element. */
export function elementFile(element: string, ...path: string[]): string {
  return join(elementsDir, element, ...path);
}

/** A fresh folder under the system temp dir, and a way to remove it. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dib-el-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A temp folder name for a suite that may be skipped: nothing is created until `create()`
 * (call it in beforeAll), so a skipped suite leaves nothing behind.
 */
export function lazyTempDir(prefix: string): {
  dir: string;
  create: () => void;
  remove: () => void;
} {
  const dir = join(tmpdir(), `dib-el-${prefix}-${randomBytes(4).toString("hex")}`);
  return {
    dir,
    create: () => mkdirSync(dir, { mode: 0o700 }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Runs one element script (hook or bin tool) the way the builder does outside the chroot:
 * a clean environment with LC_ALL=C, PATH and `_LIB`, plus `env`. Never throws on exit status.
 */
export function runScript(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
  cwd?: string,
) {
  return execa(script, args, {
    reject: false,
    extendEnv: false,
    // _LIB as the builder gives every phase: the hook library shipped with dib.
    env: {
      PATH: basePath,
      LC_ALL: "C",
      HOME: process.env.HOME ?? "/root",
      _LIB: hookLibraryDir(),
      ...env,
    },
    ...(cwd === undefined ? {} : { cwd }),
  });
}

/** True when `command` is on PATH. */
export async function hasCommand(command: string): Promise<boolean> {
  const result = await execa("sh", ["-c", `command -v ${command}`], { reject: false });
  return result.exitCode === 0;
}
