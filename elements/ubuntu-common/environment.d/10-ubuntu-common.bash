# Ubuntu defaults shared by ubuntu-minimal and ubuntu: the distribution, release, archive
# components, EFI directory, init system and the archive mirror (ports.ubuntu.com carries
# every architecture but amd64 and i386).
export DISTRO_NAME=${DISTRO_NAME:-ubuntu}
export DIB_RELEASE=${DIB_RELEASE:-noble}
export DIB_DEBIAN_COMPONENTS=${DIB_DEBIAN_COMPONENTS:-main,universe}
export EFI_BOOT_DIR=EFI/ubuntu

case "$DIB_RELEASE" in
    trusty) export DIB_INIT_SYSTEM=upstart ;;
    *) export DIB_INIT_SYSTEM=systemd ;;
esac

case "${ARCH:-amd64}" in
    amd64 | i386 | x86_64) _dib_ubuntu_mirror=http://archive.ubuntu.com/ubuntu ;;
    *) _dib_ubuntu_mirror=http://ports.ubuntu.com/ubuntu-ports ;;
esac
export DIB_DISTRIBUTION_MIRROR=${DIB_DISTRIBUTION_MIRROR:-$_dib_ubuntu_mirror}
unset _dib_ubuntu_mirror
