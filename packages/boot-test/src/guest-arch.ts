import { existsSync } from "node:fs";
import { join } from "node:path";
import { DibError } from "@dib/host";
import type { Accel } from "./qemu-argv.js";

/** The guest architectures boot-test boots, in Debian's names (what dib's ARCH says). */
export const GUEST_ARCHES = ["amd64", "arm64"] as const;
export type GuestArch = (typeof GUEST_ARCHES)[number];

/** What differs between the machines boot-test gives each architecture's guests. */
export interface GuestMachine {
  /** The QEMU system emulator. */
  qemu: string;
  /** `-machine` for a BIOS boot and for a UEFI boot (arm64 has no BIOS: both are `virt`). */
  machine: { bios?: string; uefi: string };
  /** `-cpu` under TCG (under KVM always `host`). */
  tcgCpu: string;
  /** How a CD-ROM drive is attached: IDE on the PC machines, SCSI on `virt` (no IDE). */
  cdrom: "ide" | "scsi";
  /** The UEFI firmware pairs to look for (code, variable store template), best first. */
  uefiFirmware: { dir: string; pairs: readonly (readonly [string, string])[]; package: string };
  /** The kernel's name for the first serial port (a direct kernel boot's console=). */
  serialConsole: string;
}

export const GUEST_MACHINES: Readonly<Record<GuestArch, GuestMachine>> = {
  amd64: {
    qemu: "qemu-system-x86_64",
    machine: { bios: "pc", uefi: "q35" },
    tcgCpu: "max",
    cdrom: "ide",
    uefiFirmware: {
      dir: "/usr/share/OVMF",
      // Debian's ovmf package: the 4 MiB build first, the older 2 MiB one on older hosts.
      pairs: [
        ["OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"],
        ["OVMF_CODE.fd", "OVMF_VARS.fd"],
      ],
      package: "ovmf",
    },
    serialConsole: "ttyS0",
  },
  arm64: {
    qemu: "qemu-system-aarch64",
    machine: { uefi: "virt" },
    // Pointer authentication emulated with QARMA is most of a TCG arm64 guest's CPU time;
    // QEMU's own cheap algorithm gives the guest the same feature, much faster.
    tcgCpu: "max,pauth-impdef=on",
    cdrom: "scsi",
    uefiFirmware: {
      dir: "/usr/share/AAVMF",
      pairs: [["AAVMF_CODE.fd", "AAVMF_VARS.fd"]],
      package: "qemu-efi-aarch64",
    },
    serialConsole: "ttyAMA0",
  },
};

/** The architecture of the machine dib runs on, in Debian's names. */
export function hostGuestArch(nodeArch: string = process.arch): GuestArch | undefined {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "arm64") return "arm64";
  return undefined;
}

/** Whether a guest of `arch` needs emulation here: only the host's own architecture runs under KVM. */
export function isForeignGuest(arch: GuestArch, nodeArch: string = process.arch): boolean {
  return hostGuestArch(nodeArch) !== arch;
}

/** Checks an accelerator choice against the guest's architecture. */
export function checkAccel(arch: GuestArch, accel: Accel | "auto"): void {
  if (accel === "kvm" && isForeignGuest(arch)) {
    throw new DibError(
      "DIB_BAD_ARGUMENT",
      `--accel kvm cannot run an ${arch} guest on this ${hostGuestArch() ?? process.arch} host`,
      { hint: "KVM runs guests of the host's own architecture only; use --accel tcg (or auto)" },
    );
  }
}

/** The UEFI firmware for `arch` (code, and the variable store template each boot copies). */
export function findUefiFirmware(
  arch: GuestArch,
  dir?: string,
): { code: string; varsTemplate: string } {
  const firmware = GUEST_MACHINES[arch].uefiFirmware;
  const where = dir ?? firmware.dir;
  for (const [code, vars] of firmware.pairs) {
    if (existsSync(join(where, code)) && existsSync(join(where, vars))) {
      return { code: join(where, code), varsTemplate: join(where, vars) };
    }
  }
  const first = firmware.pairs[0];
  throw new DibError(
    "DIB_TOOL_MISSING",
    `no ${arch} UEFI firmware in ${where} (${first ? `${first[0]} and ${first[1]}` : "none known"})`,
    { hint: `apt-get install ${firmware.package}` },
  );
}
