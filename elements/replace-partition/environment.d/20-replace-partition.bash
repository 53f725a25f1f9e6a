# replace-partition copies an existing image's files as they are: nothing is installed or
# upgraded, and the bootloader is reinstalled from the image's own GRUB packages. Sorted after
# the block-device elements' 15-block-device.bash and base's defaults, which it overrides.
export DIB_SKIP_BASE_PACKAGE_INSTALL=1
export DIB_AVOID_PACKAGES_UPDATE=1
export DIB_SKIP_GRUB_PACKAGE_INSTALL=True
# Logical sector size of DIB_LOCAL_IMAGE: 4096 for an image built with block-device-efi-4k.
export DIB_SOURCE_BLOCK_SIZE=${DIB_SOURCE_BLOCK_SIZE:-512}
