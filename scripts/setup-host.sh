#!/usr/bin/env bash
# Makes a fresh Debian machine ready to build dib and run its tests: host tools from apt,
# the pinned pnpm, and the workspace's dependencies. Safe to run again: it only installs
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  util-linux fdisk gdisk dosfstools mtools e2fsprogs xfsprogs btrfs-progs
  squashfs-tools debootstrap mmdebstrap qemu-utils qemu-system-x86 ovmf skopeo
  rsync lvm2 kpartx attr acl pigz zstd cpio curl ca-certificates gzip tar
  busybox-static shellcheck python3-yaml git
  xorriso isolinux syslinux-common grub-efi-amd64-bin grub-common
  rpm dnf dnf-plugins-core createrepo-c podman buildah
  qemu-user-static arch-test qemu-system-arm qemu-efi-aarch64 file
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-host: run as root (dib needs loop devices, mounts and chroot)" >&2
  exit 1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
modprobe loop 2>/dev/null || true

want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  npm i -g --allow-scripts=pnpm "pnpm@$want_pnpm" >/dev/null
fi
pnpm install --frozen-lockfile >/dev/null
echo "setup-host: ready (pnpm $want_pnpm, $(node --version))"
