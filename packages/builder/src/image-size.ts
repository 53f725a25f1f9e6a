/** What the image size and the root mkfs options depend on (§2.8). All sizes are KiB unless named. */
export interface ImageSizeInput {
  /** `--image-size` / DIB_IMAGE_SIZE in GB; when set, nothing is measured. */
  imageSizeGb?: number | undefined;
  /** `du -x` total of the root tree in KiB (1K blocks); needed when imageSizeGb is unset. */
  measuredKiB?: number | undefined;
  /** `--image-extra-size` / DIB_IMAGE_EXTRA_SIZE in MiB: added instead of the /0.6 headroom. */
  imageExtraSizeMb?: number | undefined;
  /** DIB_ROOT_FSTYPE from the block-device config. */
  rootFsType: string;
  /** DIB_JOURNAL_SIZE in MB. */
  journalSizeMb: number;
  /** DIB_RELEASE (`trusty` turns off metadata_csum). */
  release?: string | undefined;
  /** IMAGE_ELEMENT: the expanded element names. */
  imageElements: readonly string[];
  /** MAX_ONLINE_RESIZE. */
  maxOnlineResize?: number | undefined;
  /** `--mkfs-options` (MKFS_OPTS) as given. */
  mkfsOptions: string;
}

export interface ImageSize {
  /** The image size in KiB: exported as DIB_IMAGE_SIZE and given to the block device. */
  sizeKiB: number;
  /** MKFS_OPTS for the root filesystem after the ext4 and resize additions. */
  mkfsOptions: string;
  /** What went into the number, in order, for the log. */
  steps: string[];
}

/** The extra room an EFI system partition needs (DIB pads 525 MiB for its 550 MiB ESP). */
const EFI_PADDING_KIB = 525 * 1024;

function prepend(option: string, options: string): string {
  return options === "" ? option : `${option} ${options}`;
}

/**
 * DIB's image size arithmetic, exactly: the measured tree /0.6 (or + extra MiB), the ext4
 * journal, EFI padding, then rounding UP to 64 KiB (DIB's comment says "down"; it rounds up).
 */
export function computeImageSize(input: ImageSizeInput): ImageSize {
  const steps: string[] = [];
  let size: number;
  const given = input.imageSizeGb !== undefined;
  if (input.imageSizeGb !== undefined) {
    size = Math.trunc(input.imageSizeGb * 1024 * 1024);
    steps.push(`requested ${input.imageSizeGb} GB = ${size} KiB`);
  } else {
    if (input.measuredKiB === undefined) {
      throw new Error("computeImageSize needs measuredKiB when no image size is given");
    }
    const total = input.measuredKiB;
    if (input.imageExtraSizeMb !== undefined) {
      size = Math.trunc(total + input.imageExtraSizeMb * 1024);
      steps.push(`tree ${total} KiB + ${input.imageExtraSizeMb} MiB extra = ${size} KiB`);
    } else {
      size = Math.trunc(total / 0.6);
      steps.push(`tree ${total} KiB / 0.6 = ${size} KiB`);
    }
  }
  let mkfsOptions = input.mkfsOptions.trim();
  if (input.rootFsType === "ext4") {
    mkfsOptions = prepend(`-i 4096 -J size=${input.journalSizeMb}`, mkfsOptions);
    if (input.release === "trusty") mkfsOptions = prepend("-O ^metadata_csum", mkfsOptions);
    if (!given) {
      size += input.journalSizeMb * 1024;
      steps.push(`+ ${input.journalSizeMb} MB ext4 journal = ${size} KiB`);
    }
  }
  if (input.imageElements.some((e) => e.includes("block-device-efi"))) {
    size += EFI_PADDING_KIB;
    steps.push(`+ 525 MiB for the EFI partition = ${size} KiB`);
  }
  if (size % 64 !== 0) {
    size += 64 - (size % 64);
    steps.push(`rounded up to 64 KiB = ${size} KiB`);
  }
  if (input.maxOnlineResize !== undefined) {
    mkfsOptions = prepend(`-E resize=${input.maxOnlineResize}`, mkfsOptions);
  }
  return { sizeKiB: size, mkfsOptions, steps };
}

/** The total of `du -k` output: the number on its last line. */
export function parseDuTotal(stdout: string): number {
  const lines = stdout.trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const total = Number.parseInt(last.split(/\s+/)[0] ?? "", 10);
  if (!Number.isFinite(total)) throw new Error(`cannot read a size from du output: ${last}`);
  return total;
}
