import type { BlockDeviceState, FstabEntry } from "@dib/block-device";
import type { FstabConfig } from "./schema.js";

/**
 * The fstab settings of one mount (state.fstab[mount]). Swap is always `sw 0 0`, whatever
 * the config says: it is neither dumped nor checked.
 */
export function fstabEntry(config: FstabConfig, state: BlockDeviceState): FstabEntry {
  const isSwap = state.mount?.none?.name === config.base;
  return {
    name: config.name,
    base: config.base,
    options: isSwap ? "sw" : config.options,
    "dump-freq": isSwap ? 0 : config["dump-freq"],
    "fsck-passno": isSwap ? 0 : config["fsck-passno"],
  };
}
