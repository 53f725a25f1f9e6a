import { GUEST_MACHINES, type GuestArch } from "./guest-arch.js";

export type Accel = "kvm" | "tcg";

/** Boot a kernel and initrd straight from files (a ramdisk image), with no bootloader. */
export interface DirectKernel {
  kernel: string;
  initrd?: string;
  append?: string;
}

export interface QemuMachine {
  /** The guest's architecture (default amd64): machine type, CPU, firmware, CD-ROM bus. */
  arch?: GuestArch;
  /** The QEMU binary (default: the architecture's qemu-system-*). */
  qemu?: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  /** The disk the guest boots from; with `-snapshot` nothing is written to it. */
  disk?: { file: string; format: string };
  /** UEFI firmware (OVMF, AAVMF): `vars` must be a private copy, the guest writes to it. */
  uefi?: { code: string; vars: string };
  kernel?: DirectKernel;
  /** An ISO in a CD-ROM drive, first in the firmware's boot order. */
  cdrom?: string;
  /** A unix socket dib listens on; QEMU connects its first serial port to it. */
  consoleSocket: string;
}

/**
 * The QEMU command line for one test boot: no display, the first serial port on dib's
 * socket, a virtio disk and a virtio NIC on user networking (the guest gets 10.0.2.15 by
 * DHCP). BIOS guests get the i440fx machine most clouds still use, UEFI guests q35; arm64
 * guests the `virt` board with AAVMF, as arm64 clouds boot them.
 */
export function qemuArgv(machine: QemuMachine): string[] {
  const guest = GUEST_MACHINES[machine.arch ?? "amd64"];
  const argv = [machine.qemu ?? guest.qemu, "-name", "dib-boot-test"];
  const type = machine.uefi ? guest.machine.uefi : (guest.machine.bios ?? guest.machine.uefi);
  argv.push("-machine", type);
  argv.push("-accel", machine.accel, "-cpu", machine.accel === "kvm" ? "host" : guest.tcgCpu);
  argv.push("-m", String(machine.memoryMiB), "-smp", String(machine.cpus));
  argv.push("-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot", "-snapshot");
  if (machine.uefi) {
    argv.push(
      "-drive",
      `if=pflash,format=raw,unit=0,readonly=on,file=${driveValue(machine.uefi.code)}`,
    );
    argv.push("-drive", `if=pflash,format=raw,unit=1,file=${driveValue(machine.uefi.vars)}`);
  }
  if (machine.disk) {
    argv.push(
      "-drive",
      `file=${driveValue(machine.disk.file)},format=${machine.disk.format},if=virtio,discard=unmap`,
    );
  }
  if (machine.cdrom) {
    // bootindex puts the CD first for SeaBIOS, OVMF and AAVMF (which would try the NIC too).
    argv.push(
      "-drive",
      `file=${driveValue(machine.cdrom)},format=raw,if=none,id=cd0,media=cdrom,readonly=on`,
    );
    if (guest.cdrom === "scsi") {
      argv.push("-device", "virtio-scsi-pci,id=scsi0");
      argv.push("-device", "scsi-cd,drive=cd0,bus=scsi0.0,bootindex=0");
    } else {
      argv.push("-device", "ide-cd,drive=cd0,bootindex=0");
    }
  }
  argv.push("-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0");
  argv.push("-device", "virtio-rng-pci");
  argv.push("-chardev", `socket,id=console0,path=${driveValue(machine.consoleSocket)}`);
  argv.push("-serial", "chardev:console0");
  if (machine.kernel) {
    argv.push("-kernel", machine.kernel.kernel);
    if (machine.kernel.initrd) argv.push("-initrd", machine.kernel.initrd);
    if (machine.kernel.append) argv.push("-append", machine.kernel.append);
  }
  return argv;
}

/** QEMU option values are comma-separated: a comma in a path is written twice. */
function driveValue(path: string): string {
  return path.replace(/,/g, ",,");
}

/**
 * The short guest that tells whether KVM really runs Linux here: the probe kernel with the
 * probe initramfs, on the same machine and CPU model a BIOS boot test uses, its console on
 * stdout. A /dev/kvm that runs firmware can still hang a Linux kernel (nested
 * virtualisation that lacks what the kernel needs), so only userspace output counts.
 */
export function kvmProbeArgv(probe: { kernel: string; initrd: string; qemu?: string }): string[] {
  return [
    probe.qemu ?? "qemu-system-x86_64",
    "-machine",
    "pc",
    "-accel",
    "kvm",
    "-cpu",
    "host",
    "-m",
    "128",
    "-nodefaults",
    "-display",
    "none",
    "-monitor",
    "none",
    "-no-reboot",
    "-chardev",
    "stdio,id=console0,signal=off",
    "-serial",
    "chardev:console0",
    "-kernel",
    probe.kernel,
    "-initrd",
    probe.initrd,
    "-append",
    "console=ttyS0,115200 panic=-1 loglevel=7",
  ];
}
