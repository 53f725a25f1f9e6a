# shellcheck shell=sh
# dib-ramdisk cmdline hook: a ramdisk has no root filesystem, and dracut's init stops when
# root= is empty; unless the user gave one, a placeholder lets it go on to pre-mount, where
# the init.d fragments run.
# shellcheck disable=SC2034 # root, rootok: read by dracut's init
if [ -z "${root:-}" ]; then
    root=dib-ramdisk
    rootok=1
fi
