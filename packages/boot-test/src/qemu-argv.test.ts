import { describe, expect, it } from "vitest";
import { planBoot } from "./boot-plan.js";
import { kvmProbeArgv, qemuArgv } from "./qemu-argv.js";

/** The value that follows each occurrence of `flag`. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ""] : []));
}

const base = {
  accel: "tcg" as const,
  memoryMiB: 1024,
  cpus: 1,
  consoleSocket: "/tmp/w/console.sock",
};

describe("qemuArgv", () => {
  it("boots a BIOS guest on the pc machine with a snapshot virtio disk, virtio NIC and the console on the socket", () => {
    const argv = qemuArgv({ ...base, disk: { file: "/img/disk.qcow2", format: "qcow2" } });
    expect(argv[0]).toBe("qemu-system-x86_64");
    expect(values(argv, "-machine")).toEqual(["pc"]);
    expect(argv).toContain("-snapshot");
    expect(argv).toContain("-nodefaults");
    expect(values(argv, "-display")).toEqual(["none"]);
    expect(values(argv, "-drive")).toEqual([
      "file=/img/disk.qcow2,format=qcow2,if=virtio,discard=unmap",
    ]);
    expect(values(argv, "-netdev")).toEqual(["user,id=net0"]);
    expect(values(argv, "-device")).toContain("virtio-net-pci,netdev=net0");
    expect(values(argv, "-chardev")).toEqual(["socket,id=console0,path=/tmp/w/console.sock"]);
    expect(values(argv, "-serial")).toEqual(["chardev:console0"]);
    expect(values(argv, "-m")).toEqual(["1024"]);
    expect(argv.some((a) => a.includes("pflash"))).toBe(false);
  });

  it("boots a UEFI guest on q35 with read-only OVMF code and a writable copy of the variables", () => {
    const argv = qemuArgv({
      ...base,
      disk: { file: "/img/disk.raw", format: "raw" },
      uefi: { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/tmp/w/OVMF_VARS.fd" },
    });
    expect(values(argv, "-machine")).toEqual(["q35"]);
    expect(values(argv, "-drive")).toEqual([
      "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
      "if=pflash,format=raw,unit=1,file=/tmp/w/OVMF_VARS.fd",
      "file=/img/disk.raw,format=raw,if=virtio,discard=unmap",
    ]);
  });

  it("uses the host CPU under KVM and the emulated max CPU under TCG", () => {
    const kvm = qemuArgv({ ...base, accel: "kvm" });
    expect(values(kvm, "-accel")).toEqual(["kvm"]);
    expect(values(kvm, "-cpu")).toEqual(["host"]);
    const tcg = qemuArgv(base);
    expect(values(tcg, "-accel")).toEqual(["tcg"]);
    expect(values(tcg, "-cpu")).toEqual(["max"]);
  });

  it("boots a kernel and initrd directly, with no disk", () => {
    const argv = qemuArgv({
      ...base,
      kernel: { kernel: "/k/vmlinuz", initrd: "/k/initrd", append: "console=ttyS0" },
    });
    expect(values(argv, "-kernel")).toEqual(["/k/vmlinuz"]);
    expect(values(argv, "-initrd")).toEqual(["/k/initrd"]);
    expect(values(argv, "-append")).toEqual(["console=ttyS0"]);
    expect(values(argv, "-drive")).toEqual([]);
  });

  it("boots an ISO from a read-only CD-ROM drive first in the boot order, under BIOS and UEFI", () => {
    for (const uefi of [undefined, { code: "/ovmf/CODE.fd", vars: "/w/VARS.fd" }]) {
      const argv = qemuArgv({ ...base, cdrom: "/out/rd,1.iso", ...(uefi ? { uefi } : {}) });
      expect(values(argv, "-drive")).toContain(
        "file=/out/rd,,1.iso,format=raw,if=none,id=cd0,media=cdrom,readonly=on",
      );
      expect(values(argv, "-device")).toContain("ide-cd,drive=cd0,bootindex=0");
      expect(values(argv, "-kernel")).toEqual([]);
      expect(values(argv, "-machine")).toEqual([uefi ? "q35" : "pc"]);
    }
  });

  it("doubles commas in paths, as QEMU option values need", () => {
    const argv = qemuArgv({ ...base, disk: { file: "/img/a,b.raw", format: "raw" } });
    expect(values(argv, "-drive")).toEqual([
      "file=/img/a,,b.raw,format=raw,if=virtio,discard=unmap",
    ]);
  });
});

describe("planBoot", () => {
  it("boots the image itself when there is nothing to resize", () => {
    const plan = planBoot({
      ...base,
      image: "/img/disk.qcow2",
      imageFormat: "qcow2",
      workDir: "/tmp/w",
    });
    expect(plan.prepare).toEqual([]);
    expect(plan.copies).toEqual([]);
    expect(plan.consoleSocket).toBe("/tmp/w/console.sock");
    expect(values(plan.qemu, "-drive")).toEqual([
      "file=/img/disk.qcow2,format=qcow2,if=virtio,discard=unmap",
    ]);
  });

  it("boots a grown qcow2 overlay backed by the image when asked to resize", () => {
    const plan = planBoot({
      ...base,
      image: "/img/disk.raw",
      imageFormat: "raw",
      resize: "+10G",
      workDir: "/tmp/w",
    });
    expect(plan.prepare).toEqual([
      [
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "/img/disk.raw",
        "-F",
        "raw",
        "/tmp/w/overlay.qcow2",
      ],
      ["qemu-img", "resize", "-q", "/tmp/w/overlay.qcow2", "+10G"],
    ]);
    expect(values(plan.qemu, "-drive")).toEqual([
      "file=/tmp/w/overlay.qcow2,format=qcow2,if=virtio,discard=unmap",
    ]);
    expect(plan.qemu).toContain("-snapshot");
  });

  it("copies the OVMF variable store into the work directory for a UEFI boot", () => {
    const plan = planBoot({
      ...base,
      image: "/img/disk.raw",
      imageFormat: "raw",
      uefiFirmware: { code: "/fw/CODE.fd", varsTemplate: "/fw/VARS.fd" },
      workDir: "/tmp/w",
    });
    expect(plan.copies).toEqual([{ from: "/fw/VARS.fd", to: "/tmp/w/UEFI_VARS.fd" }]);
    expect(values(plan.qemu, "-drive")[1]).toBe(
      "if=pflash,format=raw,unit=1,file=/tmp/w/UEFI_VARS.fd",
    );
  });

  it("boots an arm64 guest on QEMU's virt board through AAVMF, its CD on SCSI", () => {
    const plan = planBoot({
      ...base,
      arch: "arm64",
      image: "/img/arm64.qcow2",
      imageFormat: "qcow2",
      cdrom: "/out/arm64.iso",
      uefiFirmware: {
        code: "/usr/share/AAVMF/AAVMF_CODE.fd",
        varsTemplate: "/usr/share/AAVMF/AAVMF_VARS.fd",
      },
      workDir: "/tmp/w",
    });
    expect(plan.qemu[0]).toBe("qemu-system-aarch64");
    expect(values(plan.qemu, "-machine")).toEqual(["virt"]);
    expect(values(plan.qemu, "-cpu")).toEqual(["max,pauth-impdef=on"]);
    expect(values(plan.qemu, "-drive")[0]).toBe(
      "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd",
    );
    expect(values(plan.qemu, "-device")).toContain("scsi-cd,drive=cd0,bus=scsi0.0,bootindex=0");
    expect(values(plan.qemu, "-device")).not.toContain("ide-cd,drive=cd0,bootindex=0");
  });
});

describe("the KVM probe", () => {
  it("boots the probe kernel and initramfs under KVM on a BIOS boot test's machine, console on stdout", () => {
    const argv = kvmProbeArgv({ kernel: "/k/vmlinuz", initrd: "/c/probe.cpio" });
    expect(argv[0]).toBe("qemu-system-x86_64");
    expect(values(argv, "-accel")).toEqual(["kvm"]);
    expect(values(argv, "-cpu")).toEqual(["host"]);
    expect(values(argv, "-machine")).toEqual(["pc"]);
    expect(values(argv, "-kernel")).toEqual(["/k/vmlinuz"]);
    expect(values(argv, "-initrd")).toEqual(["/c/probe.cpio"]);
    expect(values(argv, "-serial")).toEqual(["chardev:console0"]);
    expect(values(argv, "-chardev")).toEqual(["stdio,id=console0,signal=off"]);
    // The guest's panic or poweroff ends QEMU instead of rebooting into another try.
    expect(argv).toContain("-no-reboot");
    expect(values(argv, "-append")[0]).toMatch(/console=ttyS0.*panic=-1/);
  });
});
