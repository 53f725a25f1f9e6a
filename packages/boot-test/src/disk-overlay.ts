import { resolve } from "node:path";
import { DibError, type Host } from "@dib/host";

const RESIZE = /^\+?\d+(\.\d+)?[kKMGTPE]?$/;

/** Checks a `--resize` value: an absolute size or a `+` increase, in qemu-img's units. */
export function checkResize(size: string): string {
  if (!RESIZE.test(size)) {
    throw new DibError("DIB_BAD_ARGUMENT", `--resize ${size} is not a size`, {
      hint: "give a size such as 20G (the new disk size) or +5G (that much larger)",
    });
  }
  return size;
}

/** What qemu-img says the image is: its format (qcow2, raw, vmdk …) and size in bytes. */
export async function imageFormat(
  host: Host,
  image: string,
): Promise<{ format: string; virtualSize: number }> {
  const { stdout } = await host.run(["qemu-img", "info", "--output=json", image], {
    hint: `is ${image} a disk image?`,
  });
  const info = JSON.parse(stdout) as { format?: string; "virtual-size"?: number };
  if (!info.format) {
    throw new DibError("DIB_BAD_IMAGE", `qemu-img could not tell the format of ${image}`);
  }
  return { format: info.format, virtualSize: info["virtual-size"] ?? 0 };
}

/**
 * The two qemu-img commands that make a larger disk to boot without touching the image:
 * a qcow2 overlay backed by it, grown to `size`. The guest sees the bigger disk, which is
 * how growroot is tested.
 */
export function overlayCommands(
  image: string,
  format: string,
  overlay: string,
  size: string,
): string[][] {
  return [
    ["qemu-img", "create", "-q", "-f", "qcow2", "-b", resolve(image), "-F", format, overlay],
    ["qemu-img", "resize", "-q", overlay, size],
  ];
}
