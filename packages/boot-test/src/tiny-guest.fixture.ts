import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import type { Host } from "@dib/host";
import { debianGuestParts } from "./guest-kernel.js";

/**
 * A guest that boots in seconds under TCG and behaves like a getty on the serial console:
 * Debian's cloud kernel with a busybox initramfs whose /init asks for a login and a
 * password, then starts a shell. It exercises QEMU, the console socket, the prompt, the
 * login and the command protocol without needing a built image.
 */
export interface TinyGuest {
  kernel: string;
  initrd: string;
  append: string;
  /** A small raw disk whose first bytes are DISK_MAGIC. */
  disk: string;
}

export const TINY_USER = "root";
export const TINY_PASSWORD = "tiny-secret";
export const DISK_MAGIC = "DIB-BOOT-TEST-DISK";
export const DISK_BYTES = 64 * 1024 * 1024;

// virtio_blk and what it needs, in load order; the cloud kernel builds them as modules.
const MODULES = [
  "drivers/virtio/virtio.ko",
  "drivers/virtio/virtio_ring.ko",
  "drivers/virtio/virtio_pci_modern_dev.ko",
  "drivers/virtio/virtio_pci_legacy_dev.ko",
  "drivers/virtio/virtio_pci.ko",
  "drivers/block/virtio_blk.ko",
];

// Under KVM the kernel finds KVM's CPUID leaves and says so; under TCG it does not.
const HANG_UNDER_KVM = `if dmesg | grep -q 'Hypervisor detected: KVM'; then exec sleep 1000000; fi
`;

const init = (options: TinyGuestOptions) => `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /sbin /usr/bin /usr/sbin /root
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
${options.hangUnderKvm ? HANG_UNDER_KVM : ""}for m in ${MODULES.map((m) => m.split("/").at(-1)).join(" ")}; do insmod /lib/modules/$m; done
hostname tiny
echo "tiny guest: init running"
while :; do
  printf 'tiny login: '
  read -r user
  printf 'Password: '
  stty -echo; read -r pass; stty echo; echo
  if [ "$user" = ${TINY_USER} ] && [ "$pass" = ${TINY_PASSWORD} ]; then break; fi
  sleep 1
  echo "Login incorrect"
done
cd /root
setsid cttyhack sh
poweroff -f
`;

/** Where downloaded packages are kept between runs (CI machines start empty). */
export function tinyGuestCache(): string {
  return process.env.DIB_TEST_CACHE
    ? join(process.env.DIB_TEST_CACHE, "boot-test")
    : "/var/cache/dib-test/boot-test";
}

function listTree(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out.push(relative(root, path));
    if (statSync(path).isDirectory()) out.push(...listTree(root, path));
  }
  return out;
}

/** Builds the initramfs and the disk in `workDir` (root only: it creates /dev/console). */
export interface TinyGuestOptions {
  /**
   * A guest that hangs without a word under KVM and boots normally under TCG, as guests do
   * on hosts where KVM runs firmware but hangs Linux: the kernel is silent (loglevel=0) and
   * /init sleeps before printing anything when the kernel detected KVM.
   */
  hangUnderKvm?: boolean;
}

export async function makeTinyGuest(
  host: Host,
  workDir: string,
  options: TinyGuestOptions = {},
): Promise<TinyGuest> {
  // The same fetch-and-cache of Debian's cloud kernel the KVM probe uses without /boot.
  const parts = await debianGuestParts(host, tinyGuestCache(), { modules: MODULES, busybox: true });
  const root = join(workDir, "initramfs");
  for (const d of ["bin", "dev", "lib/modules"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(parts.busybox ?? "", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  for (const m of readdirSync(parts.modulesDir)) {
    copyFileSync(join(parts.modulesDir, m), join(root, "lib/modules", m));
  }
  writeFileSync(join(root, "init"), init(options), { mode: 0o755 });
  await host.run(["mknod", "-m", "600", join(root, "dev/console"), "c", "5", "1"]);
  const initrd = join(workDir, "initrd.cpio");
  await host.run(["cpio", "--quiet", "-o", "-H", "newc", "-O", initrd], {
    cwd: root,
    input: `${listTree(root).join("\n")}\n`,
  });
  const disk = join(workDir, "disk.raw");
  writeFileSync(disk, DISK_MAGIC);
  truncateSync(disk, DISK_BYTES);
  return {
    kernel: parts.vmlinuz,
    initrd,
    append: `console=ttyS0,115200 panic=-1 loglevel=${options.hangUnderKvm ? 0 : 4}`,
    disk,
  };
}
