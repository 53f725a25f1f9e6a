# shellcheck shell=bash
# yum-minimal writes ifcfg-eth0/eth1 unless the operating-system element says otherwise.
export DIB_YUM_MINIMAL_CREATE_INTERFACES=${DIB_YUM_MINIMAL_CREATE_INTERFACES:-1}
