# simple-init: whether glean writes NetworkManager connections (1) or the distribution's
# classic network scripts (0, ifupdown on Debian and Ubuntu). Fedora and CentOS/RHEL 8+
# have no classic scripts left, so they default to, and need, NetworkManager.
case "${DISTRO_NAME:-}" in
    centos | fedora | rhel | rocky | almalinux)
        export DIB_SIMPLE_INIT_NETWORKMANAGER=${DIB_SIMPLE_INIT_NETWORKMANAGER:-1}
        if [ "$DIB_SIMPLE_INIT_NETWORKMANAGER" = 0 ] &&
            { [ "$DISTRO_NAME" != centos ] || [ "${DIB_RELEASE:-9}" != 7 ]; }; then
            echo "simple-init: ${DISTRO_NAME} ${DIB_RELEASE:-} has no network scripts; glean needs DIB_SIMPLE_INIT_NETWORKMANAGER=1 there" >&2
            return 1
        fi
        ;;
    *)
        export DIB_SIMPLE_INIT_NETWORKMANAGER=${DIB_SIMPLE_INIT_NETWORKMANAGER:-0}
        ;;
esac
