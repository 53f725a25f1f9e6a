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
 * The short guest that tells whether KVM really runs guests: SeaBIOS with nothing to boot,
 * its debug port (0x402) on stdout. The device node can exist on hosts where KVM cannot run
 * an ordinary guest, so only seeing the firmware get going counts.
 */
export function kvmProbeArgv(qemu = "qemu-system-x86_64"): string[] {
  return [
    qemu,
    "-machine",
    "pc",
    "-accel",
    "kvm",
    "-m",
    "32",
    "-nodefaults",
    "-display",
    "none",
    "-monitor",
    "none",
    "-no-reboot",
    "-chardev",
    "stdio,id=firmware-log",
    "-device",
    "isa-debugcon,iobase=0x402,chardev=firmware-log",
  ];
}

/** A SeaBIOS line that only appears once the firmware has run and talked to the machine. */
export const KVM_PROBE_SUCCESS = /Found QEMU fw_cfg|Running on QEMU/;
