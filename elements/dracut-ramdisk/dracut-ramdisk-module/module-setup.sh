#!/bin/bash
# dracut module "dib-ramdisk", written into the build's tree by dracut-ramdisk's
# post-install.d: puts every element's binary-deps.d programs and udev.d rules into the
# initramfs, and runs their init.d fragments (as one pre-mount hook), with a placeholder root so dracut's init gets there.
# shellcheck disable=SC2154 # moddir, initdir: set by dracut

check() {
    return 0
}

depends() {
    echo bash
}

install() {
    local hooks=${DIB_RAMDISK_HOOKS_DIR:?} file name rule names
    if [ -d "$hooks/binary-deps.d" ]; then
        for file in "$hooks"/binary-deps.d/*; do
            [ -f "$file" ] || continue
            while read -r -a names; do
                for name in "${names[@]}"; do
                    inst_multiple "$name" || return 1
                done
            done < <(sed 's/#.*//' "$file")
        done
    fi
    if [ -d "$hooks/udev.d" ]; then
        for rule in "$hooks"/udev.d/*; do
            [ -f "$rule" ] && inst_rules "$rule"
        done
    fi
    inst_hook cmdline 90 "$moddir/dib-cmdline.sh"
    inst_hook pre-mount 50 "$moddir/dib-init.sh"
}
