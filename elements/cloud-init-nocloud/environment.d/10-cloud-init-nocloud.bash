# shellcheck shell=bash
# cloud-init probes only the NoCloud datasource (a CIDATA disk, a seed directory, or the
# kernel command line).
export DIB_CLOUD_INIT_DATASOURCES=${DIB_CLOUD_INIT_DATASOURCES:-NoCloud}
export DIB_CLOUD_INIT_NOCLOUD_SEED=${DIB_CLOUD_INIT_NOCLOUD_SEED:-}
