export type Accel = "kvm" | "tcg";

/** Boot a kernel and initrd straight from files (a ramdisk image), with no bootloader. */
export interface DirectKernel {
  kernel: string;
  initrd?: string;
  append?: string;
}

export interface QemuMachine {
  /** The QEMU binary (default qemu-system-x86_64). */
  qemu?: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  /** The disk the guest boots from; with `-snapshot` nothing is written to it. */
  disk?: { file: string; format: string };
  /** OVMF firmware: `vars` must be a private copy, the guest writes to it. */
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
 * DHCP). BIOS guests get the i440fx machine most clouds still use, UEFI guests q35.
 */
export function qemuArgv(machine: QemuMachine): string[] {
  const argv = [machine.qemu ?? "qemu-system-x86_64", "-name", "dib-boot-test"];
  argv.push("-machine", machine.uefi ? "q35" : "pc");
  argv.push("-accel", machine.accel, "-cpu", machine.accel === "kvm" ? "host" : "max");
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
    // bootindex puts the CD first for both SeaBIOS and OVMF (which would try the NIC too).
    argv.push(
      "-drive",
      `file=${driveValue(machine.cdrom)},format=raw,if=none,id=cd0,media=cdrom,readonly=on`,
    );
    argv.push("-device", "ide-cd,drive=cd0,bootindex=0");
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
