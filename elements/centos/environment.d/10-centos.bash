# shellcheck shell=bash
# CentOS Stream from its GenericCloud image: 9-stream unless DIB_RELEASE says otherwise.
# 8-stream reached its end of life on 2024-05-31; its images remain on cloud.centos.org's
# 8-stream folder only as long as CentOS keeps them there.
export DISTRO_NAME=centos
export DIB_RELEASE=${DIB_RELEASE:-9-stream}
export EFI_BOOT_DIR=${EFI_BOOT_DIR:-EFI/centos}
export YUM=${YUM:-dnf}
