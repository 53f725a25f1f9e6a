# openstack-ci-mirrors: on an OpenStack CI node, point the build at the node's mirrors, as
# its mirror file (/etc/ci/mirror_info.sh, NODEPOOL_*_MIRROR variables) names them. Sourced
# outside the chroot (the node's file) and inside it (the copy extra-data.d made). Anywhere
# else it changes nothing.
_ci_mirror_info=""
if [ -f "${DIB_OS_CI_MIRROR_INFO:-/etc/ci/mirror_info.sh}" ]; then
    _ci_mirror_info=${DIB_OS_CI_MIRROR_INFO:-/etc/ci/mirror_info.sh}
elif [ -f /tmp/in_target.d/mirror_info.sh ]; then
    _ci_mirror_info=/tmp/in_target.d/mirror_info.sh
fi

if [ -n "$_ci_mirror_info" ]; then
    # The file is the CI system's; do not trace its contents.
    _ci_xtrace=$(set +o | grep xtrace)
    set +o xtrace
    # shellcheck disable=SC1090
    source "$_ci_mirror_info"
    $_ci_xtrace
    unset _ci_xtrace

    # The mirror the file gives for this distribution, if any.
    _ci_mirror=""
    case "${DISTRO_NAME:-}" in
        ubuntu)
            if [ "${ARCH:-}" = arm64 ]; then
                _ci_mirror=${NODEPOOL_UBUNTU_PORTS_MIRROR:-}
            else
                _ci_mirror=${NODEPOOL_UBUNTU_MIRROR:-}
            fi
            ;;
        debian) _ci_mirror=${NODEPOOL_DEBIAN_MIRROR:-} ;;
        fedora) _ci_mirror=${NODEPOOL_FEDORA_MIRROR:-} ;;
        centos | rhel | rocky | almalinux)
            _ci_mirror=${NODEPOOL_CENTOS_MIRROR:-}
            if [ -n "${NODEPOOL_EPEL_MIRROR:-}" ]; then
                export DIB_EPEL_MIRROR=$NODEPOOL_EPEL_MIRROR
            fi
            ;;
        opensuse) _ci_mirror=${NODEPOOL_OPENSUSE_MIRROR:-} ;;
    esac

    if [ -n "$_ci_mirror" ]; then
        export DIB_DISTRIBUTION_MIRROR=$_ci_mirror
        case "${DISTRO_NAME:-}" in
            debian | ubuntu)
                # The CI mirrors of Debian and Ubuntu are reprepro/AFS copies whose
                # signatures do not match the distribution's keys: checks go off, but only
                # here, where the mirror file says the build uses such a mirror.
                export DIB_OS_CI_MIRROR_INSECURE=1
                case " ${DIB_DEBOOTSTRAP_EXTRA_ARGS:-} " in
                    *" --no-check-gpg "*) ;;
                    *) export DIB_DEBOOTSTRAP_EXTRA_ARGS="${DIB_DEBOOTSTRAP_EXTRA_ARGS:-} --no-check-gpg" ;;
                esac
                ;;
        esac
    fi
    export DIB_DISTRIBUTION_MIRROR_UBUNTU_IGNORE="(universe|multiverse)"
    export DIB_DISTRIBUTION_MIRROR_UBUNTU_INSECURE=1
    unset _ci_mirror

    # Pre-made yum repository files for the minimal rpm elements, when CI provides them.
    if [ -d "${DIB_OS_CI_YUM_REPOS:-/not/a/path/}" ]; then
        case "${DISTRO_NAME:-}" in
            fedora)
                if [ -d "$DIB_OS_CI_YUM_REPOS/fedora-minimal/${DIB_RELEASE:-}" ]; then
                    export DIB_YUM_MINIMAL_BOOTSTRAP_REPOS=$DIB_OS_CI_YUM_REPOS/fedora-minimal/$DIB_RELEASE/yum.repos.d
                else
                    export DIB_YUM_MINIMAL_BOOTSTRAP_REPOS=$DIB_OS_CI_YUM_REPOS/fedora-minimal/default/yum.repos.d
                fi
                ;;
            centos)
                export DIB_YUM_MINIMAL_BOOTSTRAP_REPOS=$DIB_OS_CI_YUM_REPOS/centos-minimal/${DIB_RELEASE:-}/yum.repos.d
                ;;
        esac
    fi
fi
unset _ci_mirror_info
