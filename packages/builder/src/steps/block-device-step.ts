import { join } from "node:path";
import {
  type BlockDevice,
  type BlockDeviceParams,
  type CreateResult,
  DEFAULT_BLOCK_DEVICE_CONFIG,
  defaultParams,
  type InitResult,
} from "@dib/block-device";
import { type Element, selectBlockDeviceConfig } from "@dib/elements";
import { DibError } from "@dib/host";
import type { BlockDeviceFacts } from "@dib/phase-runner";
import type { BlockDeviceConfigSource } from "../build-plan.js";
import type { Workspace } from "../workspace.js";

export interface BlockDeviceConfigChoice {
  source: BlockDeviceConfigSource;
  /** YAML text or `file://PATH`, as DIB_BLOCK_DEVICE_CONFIG takes it. */
  config: string;
  /** The element whose file was chosen. */
  element?: string;
}

/**
 * Which layout the build uses (§5.10): DIB_BLOCK_DEVICE_CONFIG, else the first element
 * (in resolution order) with `block-device-<ARCH>.yaml` or `block-device-default.yaml`,
 * else the filesystem-only fallback.
 */
export function chooseBlockDeviceConfig(input: {
  configOption: string | undefined;
  elements: readonly Pick<Element, "name" | "blockDeviceConfigs">[];
  arch: string;
}): BlockDeviceConfigChoice {
  if (input.configOption !== undefined) return { source: "env", config: input.configOption };
  const chosen = selectBlockDeviceConfig(input.elements, input.arch);
  if (chosen)
    return { source: "element", config: `file://${chosen.file}`, element: chosen.element };
  return { source: "fallback", config: DEFAULT_BLOCK_DEVICE_CONFIG };
}

export interface BlockDeviceSettings {
  fsType: string;
  rootLabel: string | undefined;
  blockSize: number | undefined;
}

/** DIB's params.yaml for this build, before and after sizing. */
export function blockDeviceParams(
  workspace: Workspace,
  settings: BlockDeviceSettings,
  size?: { bytes: number; rootFsOpts: string },
): BlockDeviceParams {
  return defaultParams(workspace.root, {
    imageDir: workspace.imageDir,
    mountBase: workspace.mountDir,
    rootFsType: settings.fsType,
    rootLabel: settings.rootLabel ?? null,
    blockSize: settings.blockSize,
    imageSize: size?.bytes,
    rootFsOpts: size?.rootFsOpts || undefined,
  });
}

/** The getval facts hooks see after init (DIB_ROOT_LABEL and friends). */
export function factsAfterInit(init: InitResult): BlockDeviceFacts {
  return {
    paramsYaml: join(init.stateDir, "params.json"),
    rootLabel: init.rootLabel,
    rootFstype: init.rootFsType,
    bootLabel: init.bootLabel,
    mountpoints: init.mountPoints,
  };
}

/** IMAGE_BLOCK_DEVICE(S) once the devices exist. */
export function factsAfterCreate(facts: BlockDeviceFacts, created: CreateResult): BlockDeviceFacts {
  const devices = Object.fromEntries(
    Object.entries(created.state.blockdev).map(([name, e]) => [name, e.device]),
  );
  const out: BlockDeviceFacts = { ...facts, imageBlockDevices: devices };
  if (created.imageDevice !== undefined) out.imageBlockDevice = created.imageDevice;
  return out;
}

export interface CreatedImage {
  params: BlockDeviceParams;
  created: CreateResult;
  /** The raw image file. */
  imagePath: string;
  /** The image's own mount points below `/` (`/boot`, `/boot/efi`). */
  mountPoints: string[];
  /** Where those are mounted on the host. */
  mountPaths: string[];
}

/**
 * Makes the image: init again with the size, then create every node (loop → partitions
 * → lvm → mkfs → mount). Everything it attaches is in the build's ledger.
 */
export async function blockDeviceStep(
  blockDevice: BlockDevice,
  input: { params: BlockDeviceParams; config: string },
): Promise<CreatedImage> {
  await blockDevice.init(input.params, input.config);
  const created = await blockDevice.create(input.params);
  if (created.rootMount === undefined) {
    throw new DibError("DIB_BLOCK_DEVICE_NO_ROOT", "the block-device layout mounts nothing at /", {
      hint: "the layout needs a mount entry with mount_point: / to copy the root tree into",
    });
  }
  if (created.imagePath === undefined) {
    throw new DibError(
      "DIB_BLOCK_DEVICE_NO_IMAGE",
      "the block-device layout made no image file (no local_loop image0)",
      {
        hint: "DIB's layouts start with `local_loop: {name: image0}`",
      },
    );
  }
  return {
    params: input.params,
    created,
    imagePath: created.imagePath,
    mountPoints: created.mounts.filter((m) => m.mountPoint !== "/").map((m) => m.mountPoint),
    mountPaths: created.mounts.filter((m) => m.mountPoint !== "/").map((m) => m.path),
  };
}
