import { join } from "node:path";
import { overlayCommands } from "./disk-overlay.js";
import type { GuestArch } from "./guest-arch.js";
import { type Accel, type DirectKernel, qemuArgv } from "./qemu-argv.js";

export interface BootPlanInput {
  image?: string;
  /** The image's format, as qemu-img reports it. */
  imageFormat?: string;
  kernel?: DirectKernel;
  /** An ISO to boot from a CD-ROM drive. */
  cdrom?: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  /** Grow the disk the guest sees to this size (through an overlay). */
  resize?: string;
  /** The guest's architecture (default amd64). */
  arch?: GuestArch;
  /** UEFI firmware (OVMF, AAVMF) for a UEFI boot. */
  uefiFirmware?: { code: string; varsTemplate: string };
  /** A fresh private directory for the overlay, the UEFI variables and the console socket. */
  workDir: string;
  qemu?: string;
}

/** Everything one test boot will do on the host, decided before anything is done. */
export interface BootPlan {
  /** qemu-img commands to run first (the resize overlay). */
  prepare: string[][];
  /** Files to copy first: the UEFI variable store template to a private, writable copy. */
  copies: { from: string; to: string }[];
  consoleSocket: string;
  qemu: string[];
}

export function planBoot(input: BootPlanInput): BootPlan {
  const consoleSocket = join(input.workDir, "console.sock");
  const prepare: string[][] = [];
  const copies: { from: string; to: string }[] = [];
  let disk: { file: string; format: string } | undefined;
  if (input.image) {
    const format = input.imageFormat ?? "raw";
    disk = { file: input.image, format };
    if (input.resize) {
      const overlay = join(input.workDir, "overlay.qcow2");
      prepare.push(...overlayCommands(input.image, format, overlay, input.resize));
      disk = { file: overlay, format: "qcow2" };
    }
  }
  let uefi: { code: string; vars: string } | undefined;
  if (input.uefiFirmware) {
    const vars = join(input.workDir, "UEFI_VARS.fd");
    copies.push({ from: input.uefiFirmware.varsTemplate, to: vars });
    uefi = { code: input.uefiFirmware.code, vars };
  }
  const qemu = qemuArgv({
    ...(input.arch ? { arch: input.arch } : {}),
    qemu: input.qemu,
    accel: input.accel,
    memoryMiB: input.memoryMiB,
    cpus: input.cpus,
    disk,
    uefi,
    kernel: input.kernel,
    ...(input.cdrom ? { cdrom: input.cdrom } : {}),
    consoleSocket,
  });
  return { prepare, copies, consoleSocket, qemu };
}
