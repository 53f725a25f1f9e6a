# shellcheck shell=bash
# Every image of the Red Hat family boots with systemd; finalise.d removes all kernels but
# the newest unless DIB_DISABLE_KERNEL_CLEANUP=1.
export DIB_INIT_SYSTEM=${DIB_INIT_SYSTEM:-systemd}
export DIB_DISABLE_KERNEL_CLEANUP=${DIB_DISABLE_KERNEL_CLEANUP:-0}
