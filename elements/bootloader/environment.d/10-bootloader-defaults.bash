# shellcheck shell=bash
# Defaults for the bootloader element's kernel command line and GRUB console settings.
export DIB_BOOTLOADER_DEFAULT_CMDLINE=${DIB_BOOTLOADER_DEFAULT_CMDLINE:-"nofb nomodeset gfxpayload=text"}
# Empty means the architecture's default port (ttyS0,115200 on x86, ttyAMA0,115200 on arm64).
export DIB_BOOTLOADER_SERIAL_CONSOLE=${DIB_BOOTLOADER_SERIAL_CONSOLE:-}
# Only a variable that is unset gets tty0: set to empty, it leaves the VT console out.
export DIB_BOOTLOADER_VIRTUAL_TERMINAL=${DIB_BOOTLOADER_VIRTUAL_TERMINAL-tty0}
export DIB_NO_TIMER_CHECK=${DIB_NO_TIMER_CHECK:-True}
export DIB_BOOTLOADER_USE_SERIAL_CONSOLE=${DIB_BOOTLOADER_USE_SERIAL_CONSOLE:-True}
export DIB_SKIP_GRUB_PACKAGE_INSTALL=${DIB_SKIP_GRUB_PACKAGE_INSTALL:-False}
