# shellcheck shell=bash
# Tells the bootloader element which partition layout this image has (efi), and refuses
# architectures whose firmware cannot boot it.
case "${ARCH:-}" in
    ppc64*)
        echo "block-device-efi: $ARCH firmware does not boot from an EFI system partition; use block-device-gpt" >&2
        exit 1
        ;;
esac
export DIB_BLOCK_DEVICE=efi
