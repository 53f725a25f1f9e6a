# shellcheck shell=bash
# almalinux from its official container image (containerfiles/<DIB_RELEASE>), with dnf.
export DISTRO_NAME=almalinux
export DIB_RELEASE=${DIB_RELEASE:-10}
export EFI_BOOT_DIR=${EFI_BOOT_DIR:-EFI/almalinux}
export YUM=${YUM:-dnf}
