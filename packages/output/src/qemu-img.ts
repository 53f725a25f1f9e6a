import type { OutputConverter } from "./converter.js";
import type { OutputStep } from "./plan.js";

type QemuImgStep = Extract<OutputStep, { via: "qemu-img" }>;

/** `qemu-img convert` from the raw image into the step's temporary file. */
export function qemuImgConvertArgv(step: QemuImgStep, rawImage: string): string[] {
  return [
    "qemu-img",
    "convert",
    ...(step.compress ? ["-c"] : []),
    "-f",
    "raw",
    "-O",
    step.format,
    ...(step.qemuImgOptions ? ["-o", step.qemuImgOptions] : []),
    rawImage,
    step.temp,
  ];
}

/**
 * qcow2, vhd (as qemu-img's `vpc`), vmdk, vdi, qed: `qemu-img convert` writes the file
 * itself, so its checksums are computed by reading it afterwards.
 */
export const qemuImgConverter: OutputConverter<"qemu-img"> = {
  input: "disk",
  async convert(step, rawImage, { host }) {
    await host.run(qemuImgConvertArgv(step, rawImage), {
      hint: step.qemuImgOptions
        ? `--qemu-img-options "${step.qemuImgOptions}" is passed to every qemu-img conversion; check the ${step.format} format accepts it (qemu-img create -f ${step.format} -o help)`
        : undefined,
    });
    return {};
  },
};
