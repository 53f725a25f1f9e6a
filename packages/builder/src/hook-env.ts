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
  tmpImagePath?: string;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The complete environment of one phase: the build's starting environment (already
 * cleared by `-c`), DIB's variables over it (§1.3), and for outside phases the
 * workspace's bin folder first on PATH, so hooks find `dib-cli`.
 */
export function phaseEnvironment(
  options: BuildOptions,
  workspace: Workspace,
  variables: BuildVariables,
  phase: string,
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
  };
  if (variables.blockDevice) input.blockDevice = variables.blockDevice;
  if (variables.imageSizeKiB !== undefined) input.imageSizeKiB = variables.imageSizeKiB;
  if (variables.tmpImagePath !== undefined) input.tmpImagePath = variables.tmpImagePath;
  const env: Record<string, string> = { ...options.env, ...hookEnvironment(input) };
  env.PATH = `${workspace.binDir}:${options.env.PATH ?? DEFAULT_PATH}`;
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
