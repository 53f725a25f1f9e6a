import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { BuildOutput } from "./build-events.js";

/**
 * Files elements write beside the image from their cleanup.d hooks (DIB's convention:
 * `$IMAGE_NAME.<suffix>` relative to where the build started), by output type: the
 * ramdisk's kernel and initramfs (ramdisk-base), baremetal's kernel and initrd, and the
 * iso element's ISOs.
 */
const ELEMENT_OUTPUT_SUFFIXES: readonly { type: string; suffix: string }[] = [
  { type: "kernel", suffix: ".kernel" },
  { type: "initramfs", suffix: ".initramfs" },
  { type: "vmlinuz", suffix: ".vmlinuz" },
  { type: "initrd", suffix: ".initrd" },
  { type: "iso", suffix: ".iso" },
  { type: "boot-iso", suffix: "-boot.iso" },
];

/**
 * The element-written outputs of this build: those files that exist and were written
 * since `sinceMs` (the build's start), so one left by an earlier build is not claimed.
 */
export function elementOutputs(
  options: { cwd: string; imageName: string },
  sinceMs: number,
): BuildOutput[] {
  const base = resolve(options.cwd, options.imageName);
  const found: BuildOutput[] = [];
  for (const { type, suffix } of ELEMENT_OUTPUT_SUFFIXES) {
    const path = base + suffix;
    try {
      const stat = statSync(path);
      // mtime has a coarser clock than Date.now() on some filesystems: allow a second.
      if (stat.isFile() && stat.mtimeMs >= sinceMs - 1000) {
        found.push({ type, path, bytes: stat.size, checksums: {} });
      }
    } catch {
      // not written by this build's elements
    }
  }
  return found;
}
