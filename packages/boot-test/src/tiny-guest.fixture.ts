import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import type { Host } from "@dib/host";

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

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /sbin /usr/bin /usr/sbin /root
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${MODULES.map((m) => m.split("/").at(-1)).join(" ")}; do insmod /lib/modules/$m; done
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

async function debFile(host: Host, pkg: string, downloadDir: string): Promise<string> {
  const fromApt = readdirSync("/var/cache/apt/archives").find(
    (f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"),
  );
  if (fromApt) return join("/var/cache/apt/archives", fromApt);
  await host.run(["apt-get", "download", pkg], { cwd: downloadDir });
  const got = readdirSync(downloadDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
  if (!got) throw new Error(`apt-get download ${pkg} left no .deb in ${downloadDir}`);
  return join(downloadDir, got);
}

/** The versioned cloud kernel package the linux-image-cloud-amd64 metapackage points at. */
async function cloudKernelPackage(host: Host): Promise<string> {
  const cached = readdirSync("/var/cache/apt/archives")
    .filter((f) => /^linux-image-\d.*-cloud-amd64_.*\.deb$/.test(f))
    .sort()
    .at(-1);
  if (cached) return cached.split("_")[0] ?? "";
  const { stdout } = await host.run(["apt-cache", "depends", "linux-image-cloud-amd64"]);
  const name = /Depends: (linux-image-\S+-cloud-amd64)/.exec(stdout)?.[1];
  if (!name) throw new Error(`cannot tell the cloud kernel package from:\n${stdout}`);
  return name;
}

/** vmlinuz, the virtio modules and a static busybox, fetched once into the cache. */
async function ensureParts(host: Host): Promise<string> {
  const cache = tinyGuestCache();
  const ready = join(cache, "parts");
  if (existsSync(join(ready, "busybox"))) return ready;
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, "fetch-"));
  try {
    const kernelDeb = await debFile(host, await cloudKernelPackage(host), scratch);
    const busyboxDeb = await debFile(host, "busybox-static", scratch);
    const tree = join(scratch, "tree");
    await host.run(["dpkg-deb", "-x", kernelDeb, tree]);
    await host.run(["dpkg-deb", "-x", busyboxDeb, tree]);
    const parts = join(scratch, "parts");
    mkdirSync(join(parts, "modules"), { recursive: true });
    const boot = join(tree, "boot");
    const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
    if (!vmlinuz) throw new Error(`no vmlinuz in ${kernelDeb}`);
    copyFileSync(join(boot, vmlinuz), join(parts, "vmlinuz"));
    const modulesRoot = join(tree, "lib/modules");
    const release = readdirSync(modulesRoot)[0] ?? "";
    for (const m of MODULES) {
      copyFileSync(
        join(modulesRoot, release, "kernel", m),
        join(parts, "modules", m.split("/").at(-1) ?? m),
      );
    }
    copyFileSync(join(tree, "bin/busybox"), join(parts, "busybox"));
    renameSync(parts, ready);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return ready;
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
export async function makeTinyGuest(host: Host, workDir: string): Promise<TinyGuest> {
  const parts = await ensureParts(host);
  const root = join(workDir, "initramfs");
  for (const d of ["bin", "dev", "lib/modules"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(join(parts, "busybox"), join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  for (const m of readdirSync(join(parts, "modules"))) {
    copyFileSync(join(parts, "modules", m), join(root, "lib/modules", m));
  }
  writeFileSync(join(root, "init"), INIT, { mode: 0o755 });
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
    kernel: join(parts, "vmlinuz"),
    initrd,
    append: "console=ttyS0,115200 panic=-1 loglevel=4",
    disk,
  };
}
