# Checks that an operating-system element chose the init system (DIB_INIT_SYSTEM);
# the whole phase stops here when it did not.
case "${DIB_INIT_SYSTEM:-}" in
    upstart | systemd | openrc | sysv)
        export DIB_INIT_SYSTEM
        ;;
    *)
        echo "ERROR: DIB_INIT_SYSTEM is '${DIB_INIT_SYSTEM:-}': it must be one of upstart, systemd, openrc, sysv (the operating-system element sets it)" >&2
        exit 1
        ;;
esac
