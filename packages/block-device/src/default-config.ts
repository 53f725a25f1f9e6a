/**
 * The layout when no element brings one and DIB_BLOCK_DEVICE_CONFIG is not set (§5.10):
 * a filesystem on the whole disk, without a partition table, mounted at `/`.
 */
export const DEFAULT_BLOCK_DEVICE_CONFIG = `- local_loop:
    name: image0

- mkfs:
    name: mkfs_root
    base: image0
    mount:
      mount_point: /
      fstab:
        options: "defaults"
        fsck-passno: 1
`;
