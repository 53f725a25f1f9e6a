# ubuntu-minimal: the kernel flavour, the archive pockets, the keyring and the apt sources the
# debootstrap element's bootstrap and base install use (the same machinery debian-minimal uses;
# only these values differ).

# DIB_UBUNTU_KERNEL names the kernel metapackage; the short flavour (generic, kvm, virtual,
# hwe) is accepted too.
DIB_UBUNTU_KERNEL=${DIB_UBUNTU_KERNEL:-linux-image-generic}
case "$DIB_UBUNTU_KERNEL" in
    linux-*) ;;
    *) DIB_UBUNTU_KERNEL=linux-image-$DIB_UBUNTU_KERNEL ;;
esac
export DIB_UBUNTU_KERNEL

# Pockets added beside the release itself (<release>-<pocket>), comma separated.
export DIB_UBUNTU_MIRROR_DISTS=${DIB_UBUNTU_MIRROR_DISTS-updates,security,backports}

# Debian ships Ubuntu's archive key in the ubuntu-keyring package. DIB_DEBIAN_KEYRING is DIB's
# older name.
export DIB_APT_KEYRING=${DIB_APT_KEYRING:-${DIB_DEBIAN_KEYRING:-/usr/share/keyrings/ubuntu-archive-keyring.gpg}}

# One "name:deb ..." line per sources.list.d/<name>.list file: the release, then each pocket.
if [ -z "${DIB_APT_SOURCES_CONF:-}" ]; then
    _dib_components=${DIB_DEBIAN_COMPONENTS//,/ }
    DIB_APT_SOURCES_CONF="default:deb $DIB_DISTRIBUTION_MIRROR $DIB_RELEASE $_dib_components"
    for _dib_pocket in ${DIB_UBUNTU_MIRROR_DISTS//,/ }; do
        DIB_APT_SOURCES_CONF="$DIB_APT_SOURCES_CONF
$_dib_pocket:deb $DIB_DISTRIBUTION_MIRROR $DIB_RELEASE-$_dib_pocket $_dib_components"
    done
    unset _dib_components _dib_pocket
fi
export DIB_APT_SOURCES_CONF

# What the base install adds to the minbase bootstrap. systemd-sysv is named explicitly: a
# minbase bootstrap has no init (trusty's init was upstart, which it keeps).
case "$DIB_RELEASE" in
    trusty) _dib_init_package="" ;;
    *) _dib_init_package="systemd-sysv " ;;
esac
export DIB_DEBOOTSTRAP_BASE_PACKAGES=${DIB_DEBOOTSTRAP_BASE_PACKAGES:-${_dib_init_package}busybox sudo python3}
unset _dib_init_package
