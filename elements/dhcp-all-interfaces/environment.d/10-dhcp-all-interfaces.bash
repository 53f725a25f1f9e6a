# shellcheck shell=bash
# Every interface gets DHCP from this element, whatever its name: the fixed eth0/eth1
# stanzas debootstrap would write are not wanted (with predictable names they match no
# interface, and with eth* names they would configure it twice).
export DIB_APT_MINIMAL_CREATE_INTERFACES=${DIB_APT_MINIMAL_CREATE_INTERFACES:-0}
export DIB_DHCP_TIMEOUT=${DIB_DHCP_TIMEOUT:-30}
