# shellcheck shell=bash
# Tells the bootloader element which partition layout this image has (mbr), and refuses
# architectures whose firmware cannot boot it.
case "${ARCH:-}" in
    arm64 | aarch64)
        echo "block-device-mbr: an MBR image needs BIOS firmware, which $ARCH does not have; use block-device-efi" >&2
        exit 1
        ;;
esac
export DIB_BLOCK_DEVICE=mbr
