# shellcheck shell=bash
# fedora from its official container image (containerfiles/<DIB_RELEASE>), with dnf.
export DISTRO_NAME=fedora
export DIB_RELEASE=${DIB_RELEASE:-42}
export EFI_BOOT_DIR=${EFI_BOOT_DIR:-EFI/fedora}
export YUM=${YUM:-dnf}
