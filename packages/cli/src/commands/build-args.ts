import { join } from "node:path";
import type { BuildOptionsInput } from "@dib/builder";
import { DibError } from "@dib/host";
import { CHECKSUM_ALGORITHMS, parseChecksumSetting } from "@dib/output";
import { getopt, type OptionSpec } from "../getopt.js";

/** How much the console shows: nothing but errors, phase lines (default), or every hook line too. */
type ConsoleLevel = "silent" | "phases" | "verbose";

export interface BuildDisplay {
  /** `--json`: one event per line on stdout instead of human output. */
  json: boolean;
  console: ConsoleLevel;
  /** DIB_NO_TIMESTAMP unset: prefix log lines with the time. */
  timestamps: boolean;
  /** `-x` or DIB_DEBUG_TRACE > 0: print commands as they run, stack traces on errors. */
  trace: boolean;
}

export type BuildCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "build"; options: BuildOptionsInput; display: BuildDisplay }
  | {
      kind: "image-files";
      files: string[];
      dryRun: boolean;
      stopOnFailure: boolean;
      display: BuildDisplay;
    };

const SPECS: OptionSpec[] = [
  { key: "arch", short: "a", takesValue: true },
  { key: "imageName", short: "o", takesValue: true },
  { key: "types", short: "t", takesValue: true },
  { key: "trace", short: "x", long: "trace", takesValue: false },
  { key: "uncompressed", short: "u", takesValue: false },
  { key: "clear", short: "c", takesValue: false },
  { key: "skipBase", short: "n", takesValue: false },
  { key: "packages", short: "p", takesValue: true },
  { key: "help", short: "h", long: "help", takesValue: false },
  { key: "version", long: "version", takesValue: false },
  { key: "checksum", long: "checksum", takesValue: false },
  { key: "imageSize", long: "image-size", takesValue: true },
  { key: "imageExtraSize", long: "image-extra-size", takesValue: true },
  { key: "imageCache", long: "image-cache", takesValue: true },
  { key: "maxOnlineResize", long: "max-online-resize", takesValue: true },
  { key: "minTmpfs", long: "min-tmpfs", takesValue: true },
  { key: "journalSize", long: "mkfs-journal-size", takesValue: true },
  { key: "mkfsOptions", long: "mkfs-options", takesValue: true },
  { key: "noTmpfs", long: "no-tmpfs", takesValue: false },
  { key: "noCache", long: "no-cache", takesValue: false },
  { key: "offline", long: "offline", takesValue: false },
  { key: "qemuImgOptions", long: "qemu-img-options", takesValue: true },
  { key: "rootLabel", long: "root-label", takesValue: true },
  { key: "ramdiskElement", long: "ramdisk-element", takesValue: true },
  { key: "installType", long: "install-type", takesValue: true },
  { key: "dockerTarget", long: "docker-target", takesValue: true },
  { key: "logfile", long: "logfile", takesValue: true },
  // ours
  { key: "ramdisk", long: "ramdisk", takesValue: false },
  { key: "json", long: "json", takesValue: false },
  { key: "keepOnFailure", long: "keep-on-failure", takesValue: false },
  { key: "dryRun", long: "dry-run", takesValue: false },
  { key: "stopOnFailure", long: "stop-on-failure", takesValue: false },
  // the diskimage-builder bin: every operand is an image file, whatever its name
  { key: "imageFiles", long: "image-files", takesValue: false },
];

/** What `-c` keeps: who we are, where programs are, how to reach the network. */
const CLEAR_ENV_KEEP = [
  "HOME",
  "PATH",
  "USER",
  "LOGNAME",
  "SHELL",
  "TERM",
  "LANG",
  "TZ",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
] as const;

export type Env = Record<string, string | undefined>;

function argumentError(message: string, hint?: string): DibError {
  return new DibError("DIB_BAD_ARGUMENT", message, {
    hint: hint ?? "run dib-cli build --help for the options",
  });
}

function number(as: string, value: string, what: string, check: (n: number) => boolean): number {
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || !check(n)) throw argumentError(`${as} needs ${what}, not '${value}'`);
  return n;
}

const positive = (n: number) => n > 0;
const nonNegative = (n: number) => n >= 0;
const positiveInt = (n: number) => n > 0 && Number.isInteger(n);

/** DIB_CHECKSUM is read by @dib/output's parser, the one the builder checks with too. */
export { parseChecksumSetting };

/** A DIB boolean variable: unset, empty and `0` are off. */
function enabled(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0";
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The environment `-c` leaves: only CLEAR_ENV_KEEP. */
function clearedEnv(env: Env): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of CLEAR_ENV_KEEP) {
    const value = env[key];
    if (value !== undefined) kept[key] = value;
  }
  return kept;
}

function definedEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Image definition files are named `*.yaml`/`*.yml`; element names never are. */
function isImageFile(operand: string): boolean {
  return /\.ya?ml$/.test(operand);
}

/**
 * `dib-cli build` arguments and environment → what to do. Pure: no files are read and
 * nothing is run. Follows disk-image-create's options and variables (§1.1, §1.2), with
 * its broken options repaired: `--image-extra-size` and `--mkfs-journal-size` are
 * accepted, and `-c` really clears the environment (keeping CLEAR_ENV_KEEP).
 */
export function parseBuildArgs(
  argv: readonly string[],
  env: Env,
  cwd: string = process.cwd(),
): BuildCommand {
  const { options: given, operands } = getopt(argv, SPECS);
  const has = (key: string) => given.some((o) => o.key === key);
  const last = (key: string) => given.filter((o) => o.key === key).at(-1);
  if (has("help")) return { kind: "help" };
  if (has("version")) return { kind: "version" };

  const clear = has("clear");
  // `-c` happens before anything reads the environment, as DIB's re-exec would.
  const vars: Env = clear ? clearedEnv(env) : env;
  const traceCount = given.filter((o) => o.key === "trace").length;
  const envTrace = Number.parseInt(vars.DIB_DEBUG_TRACE ?? "0", 10);
  const debugTrace = (Number.isFinite(envTrace) && envTrace > 0 ? envTrace : 0) + traceCount;
  const logfile = last("logfile")?.value;
  const quietSetting = vars.DIB_QUIET;
  const silent = quietSetting === undefined ? logfile !== undefined : enabled(quietSetting);
  const display: BuildDisplay = {
    json: has("json"),
    console: silent ? "silent" : quietSetting === "0" || debugTrace > 0 ? "verbose" : "phases",
    timestamps: !enabled(vars.DIB_NO_TIMESTAMP),
    trace: debugTrace > 0,
  };

  if (has("imageFiles") && operands.length === 0) {
    throw argumentError(
      "name at least one image file",
      "diskimage-builder [--dry-run] [--stop-on-failure] IMAGES.yaml...",
    );
  }
  const imageFiles = has("imageFiles") ? operands : operands.filter(isImageFile);
  if (imageFiles.length > 0) {
    if (imageFiles.length !== operands.length) {
      throw argumentError(
        `cannot mix image files (${imageFiles.join(", ")}) with element names (${operands
          .filter((o) => !isImageFile(o))
          .join(", ")})`,
        "put the elements into the image file's `elements` list",
      );
    }
    const allowed = new Set(["json", "dryRun", "stopOnFailure", "trace", "imageFiles"]);
    const stray = given.find((o) => !allowed.has(o.key));
    if (stray) {
      throw argumentError(
        `${stray.as} cannot be combined with image files`,
        "set it in the image definition instead (see README: image files)",
      );
    }
    return {
      kind: "image-files",
      files: imageFiles,
      dryRun: has("dryRun"),
      stopOnFailure: has("stopOnFailure"),
      display,
    };
  }
  for (const key of ["dryRun", "stopOnFailure"]) {
    const o = last(key);
    if (o) throw argumentError(`${o.as} only applies to image files (dib-cli build images.yaml)`);
  }

  if (operands.length === 0) {
    throw new DibError(
      "DIB_NO_ELEMENTS",
      "At least one distribution root element must be specified",
      {
        hint: "name an operating-system element, e.g. dib-cli build debian-minimal",
      },
    );
  }
  const home = vars.HOME ?? "/root";
  const listed = given.filter((o) => o.key === "types").flatMap((o) => splitList(o.value ?? ""));
  const imageTypes = listed.length > 0 ? listed : ["qcow2"];
  const installPackages = given
    .filter((o) => o.key === "packages")
    .flatMap((o) => splitList(o.value ?? ""));

  const sizeOption = last("imageSize");
  const extraOption = last("imageExtraSize");
  const journalOption = last("journalSize");
  const resizeOption = last("maxOnlineResize");
  const minTmpfsOption = last("minTmpfs");
  const fromEnv = (name: string, what: string, check: (n: number) => boolean) => {
    const value = vars[name];
    return value === undefined || value === "" ? undefined : number(name, value, what, check);
  };
  const imageSizeGb = sizeOption
    ? number(sizeOption.as, sizeOption.value ?? "", "a size in GB (e.g. 2 or 1.5)", positive)
    : fromEnv("DIB_IMAGE_SIZE", "a size in GB", positive);
  const imageExtraSizeMb = extraOption
    ? number(extraOption.as, extraOption.value ?? "", "a size in MiB", nonNegative)
    : fromEnv("DIB_IMAGE_EXTRA_SIZE", "a size in MiB", nonNegative);
  const journalSizeMb = journalOption
    ? number(journalOption.as, journalOption.value ?? "", "a journal size in MB", positiveInt)
    : fromEnv("DIB_JOURNAL_SIZE", "a journal size in MB", positiveInt);
  const maxOnlineResize = resizeOption
    ? number(
        resizeOption.as,
        resizeOption.value ?? "",
        "a number of filesystem blocks",
        positiveInt,
      )
    : fromEnv("MAX_ONLINE_RESIZE", "a number of filesystem blocks", positiveInt);
  const minTmpfsGb = minTmpfsOption
    ? number(minTmpfsOption.as, minTmpfsOption.value ?? "", "a size in GB", nonNegative)
    : fromEnv("DIB_MIN_TMPFS", "a size in GB", nonNegative);
  const blockSize = fromEnv("DIB_BLOCK_SIZE", "a sector size in bytes (512 or 4096)", positiveInt);

  const installType = last("installType")?.value ?? vars.DIB_DEFAULT_INSTALLTYPE ?? "source";
  if (installType !== "source" && installType !== "package") {
    throw argumentError(`--install-type must be 'source' or 'package', not '${installType}'`);
  }

  const noTmpfs =
    has("noTmpfs") ||
    enabled(vars.DIB_NO_TMPFS) ||
    (vars.GENTOO_PROFILE ?? "").includes("hardened");

  const options: BuildOptionsInput = {
    elements: operands,
    // The builder drops a trailing `.<type>` (parseBuildOptions), once.
    imageName: last("imageName")?.value ?? vars.IMAGE_NAME ?? "image",
    imageTypes,
    debugTrace,
    compress: !has("uncompressed"),
    skipBase: has("skipBase"),
    installPackages,
    checksums: has("checksum") ? [...CHECKSUM_ALGORITHMS] : parseChecksumSetting(vars.DIB_CHECKSUM),
    imageCache:
      last("imageCache")?.value ?? vars.DIB_IMAGE_CACHE ?? join(home, ".cache/image-create"),
    lockfilesDir: vars.DIB_LOCKFILES ?? join(home, ".cache/dib/lockfiles"),
    mkfsOptions: last("mkfsOptions")?.value ?? "",
    noTmpfs,
    offline: has("offline") || enabled(vars.DIB_OFFLINE),
    // On unless DIB_STAGE_CACHE=0 turns it off; --no-cache bypasses it.
    stageCache: has("noCache") ? "bypass" : vars.DIB_STAGE_CACHE?.trim() === "0" ? "off" : "on",
    installType,
    elementsPath: (vars.ELEMENTS_PATH ?? "").split(":").filter((p) => p !== ""),
    tmpDir: vars.TMP_DIR || "/tmp",
    fsType: vars.FS_TYPE || "ext4",
    gzipBin: vars.DIB_GZIP_BIN || "gzip",
    overwriteOldImage: enabled(vars.OVERWRITE_OLD_IMAGE),
    showImageUsage: enabled(vars.DIB_SHOW_IMAGE_USAGE),
    showImageUsageFull: enabled(vars.DIB_SHOW_IMAGE_USAGE_FULL),
    breakpoints: splitList(vars.break ?? ""),
    breakOutsideTarget: enabled(vars.break_outside_target),
    keepOnFailure: has("keepOnFailure"),
    ramdisk: has("ramdisk"),
    cwd,
    env: definedEnv(vars),
    dibArgs: argv.map(shellQuote).join(" "),
  };
  const optional: Partial<BuildOptionsInput> = {
    arch: last("arch")?.value ?? (vars.ARCH || undefined),
    imageSizeGb,
    imageExtraSizeMb,
    journalSizeMb,
    maxOnlineResize,
    minTmpfsGb,
    blockSize,
    qemuImgOptions: last("qemuImgOptions")?.value ?? (vars.QEMU_IMG_OPTIONS || undefined),
    rootLabel: last("rootLabel")?.value ?? (vars.ROOT_LABEL || undefined),
    ramdiskElement: last("ramdiskElement")?.value ?? (vars.RAMDISK_ELEMENT || undefined),
    dockerTarget: last("dockerTarget")?.value ?? (vars.DOCKER_TARGET || undefined),
    blockDeviceConfig: vars.DIB_BLOCK_DEVICE_CONFIG || undefined,
    breakCmd: vars.break_cmd || undefined,
    logfile,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  }
  return { kind: "build", options, display };
}
