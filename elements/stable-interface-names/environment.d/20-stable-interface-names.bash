# shellcheck shell=bash
# A kernel argument that turns predictable interface names off would undo this element:
# take net.ifnames=0 and biosdevname=0 out of the command line the bootloader writes (this
# file sorts after the bootloader's defaults).
if [ -n "${DIB_BOOTLOADER_DEFAULT_CMDLINE:-}" ]; then
    DIB_BOOTLOADER_DEFAULT_CMDLINE=$(echo " $DIB_BOOTLOADER_DEFAULT_CMDLINE " |
        sed -E 's/ (net\.ifnames|biosdevname)=0 / /g; s/^ +//; s/ +$//')
    export DIB_BOOTLOADER_DEFAULT_CMDLINE
fi
