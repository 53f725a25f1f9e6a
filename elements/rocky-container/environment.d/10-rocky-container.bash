# shellcheck shell=bash
# rocky from its official container image (containerfiles/<DIB_RELEASE>), with dnf.
export DISTRO_NAME=rocky
export DIB_RELEASE=${DIB_RELEASE:-9}
export EFI_BOOT_DIR=${EFI_BOOT_DIR:-EFI/rocky}
export YUM=${YUM:-dnf}
