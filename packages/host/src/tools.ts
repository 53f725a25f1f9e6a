import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { DibError } from "@dib/errors";

/** The Debian package that provides each host tool dib may run. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  losetup: "mount",
  mount: "mount",
  umount: "mount",
  partx: "util-linux",
  sfdisk: "fdisk",
  blkid: "util-linux",
  blockdev: "util-linux",
  fstrim: "util-linux",
  findmnt: "util-linux",
  wipefs: "util-linux",
  sgdisk: "gdisk",
  "mkfs.ext2": "e2fsprogs",
  "mkfs.ext3": "e2fsprogs",
  "mkfs.ext4": "e2fsprogs",
  e2fsck: "e2fsprogs",
  resize2fs: "e2fsprogs",
  tune2fs: "e2fsprogs",
  "mkfs.xfs": "xfsprogs",
  "mkfs.btrfs": "btrfs-progs",
  "mkfs.vfat": "dosfstools",
  "mkfs.fat": "dosfstools",
  mkswap: "util-linux",
  mcopy: "mtools",
  mmd: "mtools",
  mdir: "mtools",
  mksquashfs: "squashfs-tools",
  unsquashfs: "squashfs-tools",
  "qemu-img": "qemu-utils",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-system-aarch64": "qemu-system-arm",
  "arch-test": "arch-test",
  "vhd-util": "blktap-utils",
  debootstrap: "debootstrap",
  mmdebstrap: "mmdebstrap",
  chroot: "coreutils",
  tar: "tar",
  gzip: "gzip",
  pigz: "pigz",
  zstd: "zstd",
  rsync: "rsync",
  skopeo: "skopeo",
  pvcreate: "lvm2",
  vgcreate: "lvm2",
  lvcreate: "lvm2",
  lvs: "lvm2",
  pvs: "lvm2",
  vgs: "lvm2",
  lvchange: "lvm2",
  lvremove: "lvm2",
  vgremove: "lvm2",
  pvscan: "lvm2",
  vgck: "lvm2",
  vgchange: "lvm2",
  dmsetup: "dmsetup",
  kpartx: "kpartx",
  "grub-install": "grub2-common",
  setfattr: "attr",
  getfattr: "attr",
  setfacl: "acl",
  getfacl: "acl",
  md5sum: "coreutils",
  sha256sum: "coreutils",
  du: "coreutils",
  cpio: "cpio",
  udevadm: "udev",
  docker: "docker.io",
  podman: "podman",
};

/** Where a tool lives on PATH (plus the sbin directories root would have), or undefined. */
export function findTool(name: string, path = process.env.PATH ?? ""): string | undefined {
  const dirs = [...path.split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ToolStatus {
  tool: string;
  path: string | undefined;
  debianPackage: string | undefined;
}

export function toolStatus(tools: readonly string[]): ToolStatus[] {
  return tools.map((tool) => ({ tool, path: findTool(tool), debianPackage: TOOL_PACKAGES[tool] }));
}

/**
 * Fails early, with one error listing every missing tool and the Debian packages that
 * provide them, so a user installs everything in one go.
 */
export function requireTools(tools: readonly string[], purpose?: string): void {
  const missing = toolStatus([...new Set(tools)]).filter((t) => t.path === undefined);
  if (missing.length === 0) return;
  const names = missing.map((t) => t.tool).join(", ");
  const packages = [...new Set(missing.map((t) => t.debianPackage).filter(Boolean))];
  throw new DibError(
    "DIB_TOOL_MISSING",
    `${missing.length === 1 ? "a required host tool is" : "required host tools are"} not installed: ${names}${purpose ? ` (needed ${purpose})` : ""}`,
    {
      hint:
        packages.length > 0
          ? `apt-get install ${packages.join(" ")}`
          : `install ${names} and make sure it is on PATH`,
      details: { missing: missing.map((t) => ({ tool: t.tool, package: t.debianPackage })) },
    },
  );
}
