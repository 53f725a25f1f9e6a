# Debian defaults: release, init system, EFI directory, components, and the mirrors (the build
# host's own Debian mirror when it has one, deb.debian.org otherwise).
export DISTRO_NAME=debian
export DIB_RELEASE=${DIB_RELEASE:-bookworm}
export DIB_INIT_SYSTEM=systemd
export EFI_BOOT_DIR=EFI/debian
export DIB_DEBIAN_COMPONENTS=${DIB_DEBIAN_COMPONENTS:-main}

# First http(s) URI in the host's apt sources whose path ends in /$1 (one-line and deb822 files).
_dib_debian_host_uri() {
    local suffix=$1
    local files=()
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        if [ -r "$f" ]; then files+=("$f"); fi
    done
    if [ "${#files[@]}" -eq 0 ]; then
        return 0
    fi
    sed -nE 's/^[[:space:]]*(deb|URIs:)[[:space:]]//p' "${files[@]}" 2>/dev/null |
        grep -oE 'https?://[^][:space:]]+' | sed -E 's|/+$||' | grep -E "/$suffix\$" | head -n 1 || true
}

if [ -z "${DIB_DISTRIBUTION_MIRROR:-}" ]; then
    if [ -n "${DIB_DEBIAN_DISTRIBUTION_MIRROR:-}" ]; then
        DIB_DISTRIBUTION_MIRROR=$DIB_DEBIAN_DISTRIBUTION_MIRROR
    else
        DIB_DISTRIBUTION_MIRROR=$(_dib_debian_host_uri debian)
        DIB_DISTRIBUTION_MIRROR=${DIB_DISTRIBUTION_MIRROR:-http://deb.debian.org/debian}
    fi
fi
export DIB_DISTRIBUTION_MIRROR

if [ -z "${DIB_DEBIAN_SECURITY_MIRROR:-}" ]; then
    DIB_DEBIAN_SECURITY_MIRROR=$(_dib_debian_host_uri debian-security)
    DIB_DEBIAN_SECURITY_MIRROR=${DIB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
fi
export DIB_DEBIAN_SECURITY_MIRROR
# The security suite is DIB_DEBIAN_SECURITY_PATH (DIB's name; the release by default) followed
# by DIB_DEBIAN_SECURITY_SUBPATH (bullseye and later: <release>-security).
# A DIB_DEBIAN_SECURITY_PATH that already names the whole suite gets no suffix.
case "${DIB_DEBIAN_SECURITY_PATH:-}" in
    *-security | */updates) _dib_security_subpath="" ;;
    *) _dib_security_subpath=-security ;;
esac
export DIB_DEBIAN_SECURITY_PATH=${DIB_DEBIAN_SECURITY_PATH:-$DIB_RELEASE}
export DIB_DEBIAN_SECURITY_SUBPATH=${DIB_DEBIAN_SECURITY_SUBPATH:-$_dib_security_subpath}
unset _dib_security_subpath
unset -f _dib_debian_host_uri

# One "name:deb ..." line per sources.list.d/<name>.list file. Rolling suites have no
# -updates or -security suites.
if [ -z "${DIB_APT_SOURCES_CONF:-}" ]; then
    _dib_components=${DIB_DEBIAN_COMPONENTS//,/ }
    DIB_APT_SOURCES_CONF="default:deb $DIB_DISTRIBUTION_MIRROR $DIB_RELEASE $_dib_components"
    case "$DIB_RELEASE" in
        testing | unstable | sid | experimental | forky | duke) ;;
        *)
            DIB_APT_SOURCES_CONF="$DIB_APT_SOURCES_CONF
updates:deb $DIB_DISTRIBUTION_MIRROR $DIB_RELEASE-updates $_dib_components
security:deb $DIB_DEBIAN_SECURITY_MIRROR $DIB_DEBIAN_SECURITY_PATH$DIB_DEBIAN_SECURITY_SUBPATH $_dib_components"
            ;;
    esac
    unset _dib_components
fi
export DIB_APT_SOURCES_CONF

# What the debootstrap element's base install puts in the new root before the chroot phases
# (DIB installs gnupg2, a transitional name for gnupg).
export DIB_DEBOOTSTRAP_BASE_PACKAGES=${DIB_DEBOOTSTRAP_BASE_PACKAGES:-systemd-sysv busybox sudo gnupg python3}
