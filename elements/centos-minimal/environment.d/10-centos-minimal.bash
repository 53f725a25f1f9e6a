# shellcheck shell=bash
# CentOS for yum-minimal: 9-stream unless DIB_RELEASE says otherwise. 7 and 8-stream are
# end-of-life and served only from vault.centos.org: their default mirror is the vault, and
# the image keeps the build's repository files (the release package's name mirrors that are
# gone). 7 uses yum; the others dnf.
export DISTRO_NAME=centos
export DIB_RELEASE=${DIB_RELEASE:-9-stream}
export EFI_BOOT_DIR=${EFI_BOOT_DIR:-EFI/centos}
export DIB_YUM_MINIMAL_CREATE_INTERFACES=${DIB_YUM_MINIMAL_CREATE_INTERFACES:-0}

case "$DIB_RELEASE" in
    7)
        export YUM=${YUM:-yum}
        DIB_YUM_MINIMAL_DEFAULT_MIRROR=https://vault.centos.org/7.9.2009
        DIB_YUM_MINIMAL_RELEASE_PACKAGES=${DIB_YUM_MINIMAL_RELEASE_PACKAGES:-centos-release}
        export DIB_YUM_MINIMAL_KEEP_BUILD_REPOS=${DIB_YUM_MINIMAL_KEEP_BUILD_REPOS:-1}
        ;;
    8-stream)
        export YUM=${YUM:-dnf}
        DIB_YUM_MINIMAL_DEFAULT_MIRROR=https://vault.centos.org/8-stream
        export DIB_YUM_MINIMAL_KEEP_BUILD_REPOS=${DIB_YUM_MINIMAL_KEEP_BUILD_REPOS:-1}
        ;;
    *)
        export YUM=${YUM:-dnf}
        DIB_YUM_MINIMAL_DEFAULT_MIRROR=https://mirror.stream.centos.org/$DIB_RELEASE
        ;;
esac
export DIB_YUM_MINIMAL_DEFAULT_MIRROR
export DIB_YUM_MINIMAL_RELEASE_PACKAGES=${DIB_YUM_MINIMAL_RELEASE_PACKAGES:-centos-stream-release centos-stream-repos centos-gpg-keys}
export DIB_DISTRIBUTION_MIRROR=${DIB_DISTRIBUTION_MIRROR:-$DIB_YUM_MINIMAL_DEFAULT_MIRROR}
