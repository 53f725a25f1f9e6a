import { rm } from "node:fs/promises";
import type { OutputConverter } from "./converter.js";
import type { OutputStep } from "./plan.js";

type VhdUtilStep = Extract<OutputStep, { via: "vhd-util" }>;

/** The intermediate copy vhd-util converts in place (DIB's `NAME.vhd-intermediate`). */
function vhdIntermediate(step: VhdUtilStep): string {
  return `${step.file}-intermediate`;
}

/**
 * The commands that make a VHD with vhd-util, as DIB does for bootable Xen images: copy
 * the raw image, turn the copy into a fixed VHD in place, then into a dynamic one.
 * vhd-util leaves `X.bak` behind; the caller removes it and the intermediate.
 */
export function vhdUtilCommands(step: VhdUtilStep, rawImage: string): string[][] {
  const x = vhdIntermediate(step);
  return [
    ["cp", "--sparse=always", rawImage, x],
    ["vhd-util", "convert", "-s", "0", "-t", "1", "-i", x, "-o", x],
    ["vhd-util", "convert", "-s", "1", "-t", "2", "-i", x, "-o", step.temp],
  ];
}

/** `-t vhd` when vhd-util is installed (DIB's way; a patched vhd-util makes Xen-bootable VHDs). */
export const vhdUtilConverter: OutputConverter<"vhd-util"> = {
  input: "disk",
  async convert(step, rawImage, { host }) {
    const x = vhdIntermediate(step);
    try {
      for (const argv of vhdUtilCommands(step, rawImage)) await host.run(argv);
    } finally {
      await rm(x, { force: true });
      await rm(`${x}.bak`, { force: true });
    }
    return {};
  },
};
