import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { HOOK_PHASE_WHERE, type HookPhase } from "@dib/elements";
import { HOOK_LIBRARY_FOLDER, IN_TARGET_HOOK_LIBRARY, SHIMS_FOLDER } from "@dib/hook-library";
import {
  type BlockDeviceFacts,
  type HookEnvironmentInput,
  hookEnvironment,
} from "@dib/phase-runner";
import type { BuildOptions } from "./build-options.js";
import type { Workspace } from "./workspace.js";

/**
 * What hooks are told about the build, growing as it goes: block-device facts after init,
 * the size after sizing, the devices after create. Plain data, so a step's inputs can be
 * compared and cached.
 */
export interface BuildVariables {
  arch: string;
  /** Expanded element names and folders, in resolution order. */
  elements: { name: string; path: string }[];
  blockDevice?: BlockDeviceFacts;
  imageSizeKiB?: number;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Whether hooks of `phase` (`install`, `root.d`, …) run inside the chroot, as
 * @dib/elements' HOOK_PHASE_WHERE says; the `-p` install-packages step runs there too.
 */
export function runsInChroot(phase: string): boolean {
  const name = phase.replace(/\.d$/, "");
  if (name === "install-packages") return true;
  return HOOK_PHASE_WHERE[`${name}.d` as HookPhase] === "chroot";
}

/**
 * `_LIB` for a phase: the hook library copied into the hooks tree (installHookLibrary),
 * seen from outside at `<hooks>/dib-lib` and from the chroot at /tmp/in_target.d/dib-lib.
 * DIB's `_LIB` is a host path even in the chroot, where it does not exist; ours works in
 * both places.
 */
function hookLibraryPath(hooksDir: string, phase: string): string {
  return runsInChroot(phase) ? IN_TARGET_HOOK_LIBRARY : join(hooksDir, HOOK_LIBRARY_FOLDER);
}

/** The first executable `name` on `path`, as a shell's command lookup finds it. */
export function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Whether this process runs as root (the sudo stand-in is only for root builds). */
function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The complete environment of one phase: the build's starting environment (already
 * cleared by `-c`), DIB's variables over it (§1.3) with `_LIB` and `DIB_PYTHON_EXEC`,
 * and the workspace's bin folder first on PATH, so hooks find `dib-cli` (and, outside
 * the chroot of a root build, the library's `sudo` stand-in).
 */
export function phaseEnvironment(
  options: BuildOptions,
  workspace: Workspace,
  variables: BuildVariables,
  phase: string,
  runtime: { root?: boolean } = {},
): Record<string, string> {
  const input: HookEnvironmentInput = {
    arch: variables.arch,
    imageName: options.imageName,
    elements: variables.elements,
    elementsPath: options.elementsPath,
    imageCache: options.imageCache,
    lockfiles: options.lockfilesDir,
    offline: options.offline,
    debugTrace: options.debugTrace,
    checksum: checksumSetting(options.checksums),
    noTmpfs: options.noTmpfs,
    minTmpfs: options.minTmpfsGb,
    fsType: options.fsType,
    imageType: options.imageTypes[0] ?? "qcow2",
    buildDir: workspace.root,
    imageDir: workspace.imageDir,
    hooksPath: workspace.hooksDir,
    mountPath: workspace.mountDir,
    outImagePath: options.imageName,
    args: options.dibArgs === "" ? [] : [options.dibArgs],
    startEnv: options.env,
    phase,
    lib: hookLibraryPath(workspace.hooksDir, phase),
  };
  const basePath = options.env.PATH ?? DEFAULT_PATH;
  // DIB_PYTHON_EXEC: what the user set, else the host's python3 (DIB sets its own python).
  const python = options.env.DIB_PYTHON_EXEC || findOnPath("python3", basePath);
  if (python) input.pythonExec = python;
  if (variables.blockDevice) input.blockDevice = variables.blockDevice;
  if (variables.imageSizeKiB !== undefined) input.imageSizeKiB = variables.imageSizeKiB;
  const env: Record<string, string> = { ...options.env, ...hookEnvironment(input) };
  // Outside hooks written for DIB call `sudo`; a root build needs none, and the host may
  // have none, so the library's stand-in comes right after dib-cli's folder.
  const shims =
    (runtime.root ?? isRoot()) && !runsInChroot(phase)
      ? `${join(workspace.hooksDir, HOOK_LIBRARY_FOLDER, SHIMS_FOLDER)}:`
      : "";
  env.PATH = `${workspace.binDir}:${shims}${basePath}`;
  // The build directory (its ledger.jsonl): `dib-cli internal ledger-hold` records there
  // what a hook makes outside the tree (containerfile's containers), for undo and cleanup.
  env.DIB_LEDGER_DIR = workspace.dir;
  env.DIB_DEFAULT_INSTALLTYPE = options.env.DIB_DEFAULT_INSTALLTYPE ?? options.installType;
  if (options.dockerTarget !== undefined) env.DOCKER_TARGET = options.dockerTarget;
  if (options.rootLabel !== undefined) env.ROOT_LABEL = options.rootLabel;
  if (options.qemuImgOptions !== undefined) env.QEMU_IMG_OPTIONS = options.qemuImgOptions;
  return env;
}

/** DIB_CHECKSUM as hooks expect to read it. */
export function checksumSetting(checksums: readonly string[]): string {
  if (checksums.length === 0) return "0";
  if (checksums.length === 2) return "1";
  return checksums.join(",");
}
