import { existsSync, readFileSync } from "node:fs";
import { findUefiFirmware, GUEST_ARCHES, GUEST_MACHINES, hostGuestArch } from "@dib/boot-test";
import { architecture } from "@dib/elements";
import {
  BINFMT_DIR,
  type ForeignArchSupport,
  findTool,
  foreignArchSupport,
  Host,
  toolStatus,
} from "@dib/host";
import type { Command } from "commander";

/** Tools a default build (debian-minimal vm → qcow2) cannot do without. */
const REQUIRED_TOOLS = [
  "losetup",
  "mount",
  "umount",
  "partx",
  "sfdisk",
  "sgdisk",
  "blkid",
  "fstrim",
  "mkfs.ext4",
  "mkfs.vfat",
  "mcopy",
  "chroot",
  "tar",
  "qemu-img",
  "debootstrap",
] as const;

/** Tools only some layouts, outputs or commands need. */
const OPTIONAL_TOOLS = [
  "mmdebstrap",
  "mkfs.xfs",
  "mkfs.btrfs",
  "mksquashfs",
  "unsquashfs",
  "skopeo",
  "pvcreate",
  "kpartx",
  "dmsetup",
  "vhd-util",
  "qemu-system-x86_64",
  "rsync",
  "pigz",
] as const;

export interface DoctorCheck {
  name: string;
  ok: boolean;
  required: boolean;
  detail: string;
}

export interface DoctorProbes {
  /** Kernel features the block-device levels adapt to. */
  capabilities?: (host: Host) => Promise<Record<string, boolean>>;
  /** Whether KVM really boots Linux here (a fresh probe: doctor reports what it saw). */
  kvm?: (host: Host) => Promise<{ usable: boolean; reason: string }>;
}

export async function runDoctor(host: Host, probes: DoctorProbes = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const root = process.getuid?.() === 0;
  checks.push({
    name: "root",
    ok: root,
    required: true,
    detail: root
      ? "running as root"
      : "not root: builds need root for loop devices, mounts and chroot",
  });
  const loopControl = existsSync("/dev/loop-control");
  checks.push({
    name: "loop devices",
    ok: loopControl,
    required: true,
    detail: loopControl ? "/dev/loop-control present" : "no /dev/loop-control: modprobe loop",
  });
  if (probes.capabilities && root && loopControl) {
    const caps = await probes.capabilities(host);
    const describe: Record<string, [string, string]> = {
      loopPartitionScan: [
        "loop partition scanning",
        "the kernel makes partition nodes (losetup -P)",
      ],
      partxAdd: ["partx partition nodes", "partx -a can add partition nodes"],
      deviceMapper: ["device-mapper", "kpartx and LVM activation work"],
      vfatMount: ["vfat mounting", "the kernel mounts vfat"],
    };
    for (const [key, value] of Object.entries(caps)) {
      const [name, what] = describe[key] ?? [key, key];
      checks.push({
        name,
        ok: value,
        required: false,
        detail: value ? what : `no: ${workaround(key)}`,
      });
    }
  } else {
    // The node can exist (udev, lvm2's postinst) without the kernel driver behind it.
    const dmsetup = await host
      .run(["dmsetup", "version"], { allowFailure: true })
      .catch(() => undefined);
    const dm = dmsetup !== undefined && /Driver version/.test(dmsetup.stdout);
    checks.push({
      name: "device-mapper",
      ok: dm,
      required: false,
      detail: dm
        ? "the kernel's device-mapper driver answers"
        : `no: ${workaround("deviceMapper")}`,
    });
    const vfat = /\bvfat\b/.test(readFileSync("/proc/filesystems", "utf8"));
    checks.push({
      name: "vfat mounting",
      ok: vfat,
      required: false,
      detail: vfat ? "vfat in /proc/filesystems" : `no: ${workaround("vfatMount")}`,
    });
  }
  if (probes.kvm) {
    const kvm = await probes.kvm(host);
    checks.push({
      name: "kvm",
      ok: kvm.usable,
      required: false,
      detail: kvm.usable ? kvm.reason : `unusable: ${kvm.reason}; boot tests use TCG (slower)`,
    });
  } else {
    const kvm = existsSync("/dev/kvm");
    checks.push({
      name: "kvm",
      ok: kvm,
      required: false,
      detail: kvm ? "/dev/kvm present (not probed)" : "no /dev/kvm: boot-test uses TCG (slower)",
    });
  }
  checks.push(...foreignArchChecks());
  for (const [list, required] of [
    [REQUIRED_TOOLS, true],
    [OPTIONAL_TOOLS, false],
  ] as const) {
    for (const t of toolStatus(list)) {
      checks.push({
        name: t.tool,
        ok: t.path !== undefined,
        required,
        detail: t.path ?? `missing: apt-get install ${t.debianPackage ?? t.tool}`,
      });
    }
  }
  return checks;
}

/**
 * Whether images of the other architecture boot-test knows (arm64 on amd64 hosts, amd64 on
 * arm64 ones) can be built here (QEMU's user-mode emulator through binfmt_misc) and booted
 * (qemu-system and its UEFI firmware).
 */
export function foreignArchChecks(
  support: (qemu: string) => ForeignArchSupport = foreignArchSupport,
): DoctorCheck[] {
  const host = hostGuestArch();
  const checks: DoctorCheck[] = [];
  for (const arch of GUEST_ARCHES.filter((a) => a !== host)) {
    const { qemu } = architecture(arch);
    const s = support(qemu);
    const archTest = findTool("arch-test") !== undefined;
    let ok = false;
    let detail: string;
    if (!s.definition || !s.interpreterPresent) {
      detail = `no: apt-get install qemu-user-static arch-test (QEMU's ${qemu} emulator runs the image's programs)`;
    } else if (s.mounted && !s.enabled) {
      detail = `no: binfmt_misc is switched off (echo 1 > ${BINFMT_DIR}/status)`;
    } else {
      ok = true;
      // A dib-* entry is a running build's own: it goes when that build ends.
      detail =
        s.serving && !s.serving.name.startsWith("dib-")
          ? `${s.serving.interpreter} through binfmt_misc entry ${s.serving.name}`
          : `${s.definition.interpreter}; each build registers a binfmt_misc entry for it (${s.mounted ? "the host has none of its own" : "binfmt_misc not mounted now"}) and removes it after`;
      if (!archTest) detail += "; without arch-test the bootstrap uses debootstrap, not mmdebstrap";
    }
    checks.push({ name: `build ${arch} images`, ok, required: false, detail });
    const machine = GUEST_MACHINES[arch];
    const [system] = toolStatus([machine.qemu]);
    let firmware: string | undefined;
    try {
      firmware = findUefiFirmware(arch).code;
    } catch {
      firmware = undefined;
    }
    const missing = [
      ...(system?.path ? [] : [system?.debianPackage ?? machine.qemu]),
      ...(firmware ? [] : [machine.uefiFirmware.package]),
    ];
    checks.push({
      name: `boot-test ${arch} images`,
      ok: missing.length === 0,
      required: false,
      detail:
        missing.length === 0
          ? `${machine.qemu} (TCG) with ${firmware}`
          : `no: apt-get install ${missing.join(" ")}`,
    });
  }
  return checks;
}

function workaround(capability: string): string {
  switch (capability) {
    case "loopPartitionScan":
      return "partition devices come from partx -a or per-partition loop devices";
    case "partxAdd":
      return "partition devices come from per-partition loop devices";
    case "deviceMapper":
      return "linear LVM volumes are exposed as loop devices; thin pools and spanned volumes cannot be built";
    case "vfatMount":
      return "vfat filesystems (the EFI system partition) are written with mtools";
    default:
      return "not available";
  }
}

export function registerDoctorCommand(program: Command, probes: DoctorProbes = {}): void {
  program
    .command("doctor")
    .description("check this host: root, kernel features, KVM and the host tools builds need")
    .option("--json", "print the checks as JSON")
    .option("-x, --trace", "print every command line")
    .action(async (opts: { json?: boolean; trace?: boolean }) => {
      const host = new Host({ trace: opts.trace === true });
      const checks = await runDoctor(host, probes);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
      } else {
        for (const c of checks) {
          const mark = c.ok ? "ok     " : c.required ? "MISSING" : "no     ";
          process.stdout.write(`${mark} ${c.name.padEnd(26)} ${c.detail}\n`);
        }
      }
      if (checks.some((c) => c.required && !c.ok)) process.exitCode = 1;
    });
}
