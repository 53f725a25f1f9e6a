import { blockDeviceConfigError, effectiveLabel, type GraphEntry } from "@dib/block-device";

/** The longest label each filesystem takes (mkfs refuses or truncates longer ones). */
export const LABEL_MAX_LENGTH: Readonly<Record<string, number>> = {
  ext2: 16,
  ext3: 16,
  ext4: 16,
  xfs: 12,
  vfat: 11,
  fat: 11,
  swap: 16,
  btrfs: 255,
};

/** The label mkfs gives: `label`, else the node's name; FAT labels are upper case. */
export function labelOf(config: {
  name: string;
  type: string;
  label?: string | undefined;
}): string {
  return effectiveLabel(config);
}

/** Fails with DIB's text when a label is too long for its filesystem (unknown types pass). */
export function checkLabelLength(label: string, fsType: string): void {
  const max = LABEL_MAX_LENGTH[fsType];
  const length = [...label].length;
  if (max !== undefined && length > max) {
    throw blockDeviceConfigError(
      `Label [${label}] too long for filesystem [${fsType}]: ${length} > ${max}`,
      {
        hint: `give the mkfs entry a \`label\` of at most ${max} characters`,
      },
    );
  }
}

/** Every mkfs label of the config, in config order (state.fs_labels). */
export function labelsOf(graph: readonly GraphEntry[]): string[] {
  return graph.flatMap((entry) => (entry.mkfs ? [effectiveLabel(entry.mkfs)] : []));
}

/** Labels must be unique: the image's fstab mounts by label. */
export function checkLabelUnique(label: string, graph: readonly GraphEntry[], index: number): void {
  if (labelsOf(graph.slice(0, index)).includes(label)) {
    throw blockDeviceConfigError(`File system label [${label}] used more than once`, {
      hint: "the image's fstab mounts filesystems by label: give each mkfs its own",
    });
  }
}
