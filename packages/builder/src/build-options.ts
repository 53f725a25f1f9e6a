import { DibError } from "@dib/host";
import {
  type ChecksumAlgorithm,
  isOutputType,
  OUTPUT_TYPES,
  type OutputType,
  parseChecksumSetting,
  parseOutputTypes,
} from "@dib/output";
import { z } from "zod";

export type { ChecksumAlgorithm };

/**
 * Everything one disk-image-create run depends on, as typed fields. The CLI maps argv and
 * the environment (§1.1, §1.2) onto this; a library user fills it directly.
 */
const buildOptionsSchema = z.strictObject({
  /** The positional element names, before `base`/`vm` defaults are applied (§3.3). */
  elements: z.array(z.string().min(1)),
  /** `-a` / ARCH. Unset: the host's (`dpkg --print-architecture`). */
  arch: z.string().min(1).optional(),
  /** `-o` / IMAGE_NAME; may contain a directory, relative to `cwd`. */
  imageName: z.string().min(1).default("image"),
  /** `-t`, in the order given; checked against @dib/output's types. */
  imageTypes: z.array(z.string().min(1)).min(1).default(["qcow2"]),
  /** `-x` count plus DIB_DEBUG_TRACE. */
  debugTrace: z.number().int().min(0).default(0),
  /** `-u` turns this off: qcow2 is written without `-c`. */
  compress: z.boolean().default(true),
  /** `-n`: do not add the `base` element. */
  skipBase: z.boolean().default(false),
  /** `-p`: packages installed in the chroot right after install.d. */
  installPackages: z.array(z.string().min(1)).default([]),
  /** `--checksum` / DIB_CHECKSUM, as algorithm names (see @dib/output's parseChecksumSetting). */
  checksums: z.array(z.string().min(1)).default([]),
  /** `--image-size` / DIB_IMAGE_SIZE, in GB (may be fractional). Unset: measured. */
  imageSizeGb: z.number().positive().optional(),
  /** `--image-extra-size` / DIB_IMAGE_EXTRA_SIZE, in MiB, instead of the /0.6 headroom. */
  imageExtraSizeMb: z.number().nonnegative().optional(),
  /** `--image-cache` / DIB_IMAGE_CACHE. */
  imageCache: z.string().min(1),
  /** DIB_LOCKFILES. */
  lockfilesDir: z.string().min(1),
  /** `--max-online-resize` / MAX_ONLINE_RESIZE (ext4 `-E resize=`). */
  maxOnlineResize: z.number().int().positive().optional(),
  /** `--min-tmpfs` / DIB_MIN_TMPFS, in GB. */
  minTmpfsGb: z.number().nonnegative().default(2),
  /** `--mkfs-journal-size` / DIB_JOURNAL_SIZE, in MB. */
  journalSizeMb: z.number().int().positive().default(64),
  /** `--mkfs-options` (root filesystem only). */
  mkfsOptions: z.string().default(""),
  /**
   * The stage cache (the root tree after post-install.d, reused when nothing that feeds it
   * changed): `on` with DIB_STAGE_CACHE=1, `bypass` with `--no-cache` (neither read nor
   * written), `off` otherwise.
   */
  stageCache: z.enum(["off", "on", "bypass"]).default("off"),
  /** `--no-tmpfs` / DIB_NO_TMPFS. */
  noTmpfs: z.boolean().default(false),
  /** `--offline` / DIB_OFFLINE. */
  offline: z.boolean().default(false),
  /** `--qemu-img-options` / QEMU_IMG_OPTIONS (`k=v,k2=v2`). */
  qemuImgOptions: z.string().optional(),
  /** `--root-label` / ROOT_LABEL. */
  rootLabel: z.string().min(1).optional(),
  /** ramdisk-image-create mode: RAMDISK_ELEMENT is prepended and nothing is converted. */
  ramdisk: z.boolean().default(false),
  /** `--ramdisk-element` / RAMDISK_ELEMENT. */
  ramdiskElement: z.string().min(1).default("ramdisk"),
  /** `--install-type` / DIB_DEFAULT_INSTALLTYPE. */
  installType: z.enum(["source", "package"]).default("source"),
  /** `--docker-target` / DOCKER_TARGET, e.g. `repo:tag`. */
  dockerTarget: z.string().min(1).optional(),
  /** `--logfile`: every log line, timestamped, appended here. */
  logfile: z.string().min(1).optional(),
  /** ELEMENTS_PATH, split on `:`; earlier entries win. */
  elementsPath: z.array(z.string().min(1)).default([]),
  /**
   * Folders whose node_modules (and those above) hold element packages, searched after
   * ELEMENTS_PATH: typically the current directory, then dib-cli's own package folder.
   */
  elementSearchFrom: z.array(z.string().min(1)).default([]),
  /** Element package folders to consider last. */
  elementPackageDirs: z.array(z.string().min(1)).default([]),
  /** TMP_DIR: where the build directory is made. */
  tmpDir: z.string().min(1).default("/tmp"),
  /** DIB_BLOCK_DEVICE_CONFIG: YAML text or `file://PATH`. */
  blockDeviceConfig: z.string().min(1).optional(),
  /** DIB_BLOCK_SIZE: logical sector size of the loop device. */
  blockSize: z.number().int().positive().optional(),
  /** FS_TYPE: root filesystem type when the config leaves it open. */
  fsType: z.string().min(1).default("ext4"),
  /** DIB_GZIP_BIN: gzip program for tgz (e.g. pigz). */
  gzipBin: z.string().min(1).default("gzip"),
  /** OVERWRITE_OLD_IMAGE: false renames an existing output to NAME-<date>.<ext> first. */
  overwriteOldImage: z.boolean().default(false),
  /** DIB_SHOW_IMAGE_USAGE / DIB_SHOW_IMAGE_USAGE_FULL: the du report of §2.8. */
  showImageUsage: z.boolean().default(false),
  showImageUsageFull: z.boolean().default(false),
  /** `break`: breakpoints such as `before-install`, `after-error`. */
  breakpoints: z.array(z.string().min(1)).default([]),
  /** `break_cmd`: what runs at a breakpoint (default: an interactive bash). */
  breakCmd: z.string().min(1).optional(),
  /** `break_outside_target`: open the after-error shell outside the chroot. */
  breakOutsideTarget: z.boolean().default(false),
  /** Keep the build directory (and its tmpfs) after a failure, for inspection. */
  keepOnFailure: z.boolean().default(false),
  /** Outputs are written relative to this directory. */
  cwd: z.string().min(1),
  /**
   * The environment hooks inherit (already cleared by `-c`). DIB_* settings the build
   * computes itself are layered over it.
   */
  env: z.record(z.string(), z.string()).default({}),
  /** DIB_ARGS: the original command line, for the manifests element. */
  dibArgs: z.string().default(""),
  /**
   * How hooks run `dib-cli` (argv prefix), e.g. `[node, /usr/lib/dib-cli/dist/bin.js]`.
   * Unset: outside hooks get no `dib-cli` on PATH.
   */
  cliCommand: z.array(z.string().min(1)).min(1).optional(),
});

export type BuildOptionsInput = z.input<typeof buildOptionsSchema>;
export type BuildOptions = Omit<z.output<typeof buildOptionsSchema>, "imageTypes" | "checksums"> & {
  imageTypes: OutputType[];
  checksums: ChecksumAlgorithm[];
};

/**
 * Validates options and applies DIB's startup rules that need no host: at least one
 * element, and `-o foo.qcow2 -t qcow2` names the image `foo` (§1.1).
 */
export function parseBuildOptions(input: BuildOptionsInput): BuildOptions {
  const parsed = buildOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "options";
    throw new DibError("DIB_BAD_OPTIONS", `invalid build option ${where}: ${issue?.message}`, {
      details: { issues: parsed.error.issues },
    });
  }
  const options = parsed.data;
  if (options.elements.length === 0) {
    throw new DibError(
      "DIB_NO_ELEMENTS",
      "At least one distribution root element must be specified",
      {
        hint: "name an operating-system element, e.g. debian-minimal or ubuntu-minimal",
      },
    );
  }
  const imageTypes = parseOutputTypes(options.imageTypes);
  return {
    ...options,
    imageTypes,
    checksums: parseChecksumSetting(options.checksums),
    imageName: stripTypeSuffix(options.imageName, imageTypes),
  };
}

/**
 * With exactly one image type, one trailing `.<type>` on the name is dropped (DIB's
 * `${IMAGE_NAME%.type}`): `foo.qcow2.qcow2` becomes `foo.qcow2`. Only here; front ends
 * pass `-o` as given.
 */
function stripTypeSuffix(imageName: string, imageTypes: readonly string[]): string {
  if (imageTypes.length !== 1) return imageName;
  const suffix = `.${imageTypes[0]}`;
  return imageName.endsWith(suffix) && imageName.length > suffix.length
    ? imageName.slice(0, -suffix.length)
    : imageName;
}

/** Whether an output type is converted from the raw disk image (else made from the tree). */
export function isDiskImageType(type: string): boolean {
  return isOutputType(type) && OUTPUT_TYPES[type].input === "disk";
}
