import { DibError } from "@dib/host";
import type { BlockDeviceState, GraphEntry } from "./plugin.js";
import { filesystemInfo } from "./root-info.js";

/** The symbols `getval` knows, from the config (first four) or from the state. */
export const GETVAL_SYMBOLS = [
  "root-label",
  "root-fstype",
  "boot-label",
  "mount-points",
  "image-path",
  "image-block-device",
  "image-block-devices",
  "image-block-partition",
] as const;

export type GetvalSymbol = (typeof GETVAL_SYMBOLS)[number];

/** The disk every stock layout calls image0; DIB hard-wires the name. */
const IMAGE_NODE = "image0";

function isSymbol(symbol: string): symbol is GetvalSymbol {
  return (GETVAL_SYMBOLS as readonly string[]).includes(symbol);
}

/**
 * DIB's `getval`. `loadState` is only called for the state-based symbols, so the config
 * ones work right after `init`.
 */
export function getval(
  symbol: string,
  config: readonly GraphEntry[],
  loadState: () => BlockDeviceState,
): string {
  if (!isSymbol(symbol)) {
    throw new DibError("DIB_BLOCK_DEVICE_GETVAL", `Invalid symbol [${symbol}] for getval`, {
      hint: `known symbols: ${GETVAL_SYMBOLS.join(", ")}`,
    });
  }
  const info = () => filesystemInfo(config);
  switch (symbol) {
    case "root-label":
      return info().rootLabel;
    case "root-fstype":
      return info().rootFsType;
    case "boot-label":
      return info().bootLabel;
    case "mount-points":
      return info().mountPoints.join("|");
    case "image-path":
      return imageDevice(loadState(), symbol).image ?? "";
    case "image-block-device":
      return imageDevice(loadState(), symbol).device;
    case "image-block-devices":
      // A bash associative-array body: eval "declare -A devs=( $(getval image-block-devices) )".
      return Object.entries(loadState().blockdev)
        .map(([name, entry]) => ` [${name}]=${entry.device} `)
        .join("");
    case "image-block-partition": {
      const state = loadState();
      return (state.blockdev.root ?? imageDevice(state, symbol)).device;
    }
  }
}

function imageDevice(state: BlockDeviceState, symbol: string) {
  const entry = state.blockdev[IMAGE_NODE];
  if (!entry) {
    throw new DibError(
      "DIB_BLOCK_DEVICE_GETVAL",
      `getval ${symbol}: the state has no block device ${IMAGE_NODE}`,
      {
        hint: `DIB's symbols assume the disk is a local_loop named ${IMAGE_NODE}`,
      },
    );
  }
  return entry;
}
