import { join } from "node:path";
import { compareBytes } from "./sort-n.js";

export interface ResolvedElementRef {
  name: string;
  /** The element's directory. */
  path: string;
}

/** Block-device facts, exported once `dib-block-device getval` would know them. */
export interface BlockDeviceFacts {
  /** DIB_BLOCK_DEVICE_PARAMS_YAML: the params file's path. */
  paramsYaml?: string;
  rootLabel?: string;
  rootFstype?: string;
  bootLabel?: string;
  /** Mount points of the image's filesystems; exported '|'-joined. */
  mountpoints?: readonly string[];
  /** IMAGE_BLOCK_DEVICE, e.g. /dev/loop0. */
  imageBlockDevice?: string;
  /** IMAGE_BLOCK_DEVICES: node name → device. */
  imageBlockDevices?: Readonly<Record<string, string>>;
}

export interface HookEnvironmentInput {
  arch: string;
  imageName: string;
  /** The resolved element set, in build order. */
  elements: readonly ResolvedElementRef[];
  /** The element search path, joined with ':' into ELEMENTS_PATH. */
  elementsPath: readonly string[];
  imageCache: string;
  lockfiles?: string;
  offline?: boolean;
  debugTrace?: number;
  /** DIB_CHECKSUM as given ("0", "1", "md5,sha256" …). */
  checksum?: string;
  noTmpfs?: boolean;
  minTmpfs?: number;
  fsType?: string;
  imageType?: string;
  buildDir: string;
  imageDir: string;
  /** TMP_HOOKS_PATH; DIB's is `<buildDir>/hooks`. */
  hooksPath?: string;
  /** TMP_MOUNT_PATH; DIB's is `<buildDir>/mnt`. */
  mountPath?: string;
  outImagePath?: string;
  blockDevice?: BlockDeviceFacts;
  /** DIB_IMAGE_SIZE after sizing, in KiB. */
  imageSizeKiB?: number;
  /** The build's command-line arguments (DIB_ARGS). */
  args: readonly string[];
  /** The environment the build started with; its DIB_* variables become DIB_ENV. */
  startEnv?: Readonly<Record<string, string | undefined>>;
  /** The phase the environment is for: TARGET_ROOT is set only for root and cleanup. */
  phase?: string;
  /**
   * _LIB: the hook library (`@dib/hook-library`) DIB element scripts source files from
   * (img-functions, die, …), as seen from where the phase runs.
   */
  lib?: string;
  /** DIB_PYTHON_EXEC: the host's python3, which element scripts run outside the chroot. */
  pythonExec?: string;
  /** More variables (they win over the computed ones). */
  extra?: Readonly<Record<string, string>>;
}

/** The phases that see TARGET_ROOT, the root filesystem from outside. */
const TARGET_ROOT_PHASES = new Set(["root", "cleanup"]);

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `declare -p` form of one exported variable, as bash prints it. */
function declareExported(name: string, value: string): string {
  return `declare -x ${name}="${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** DIB_ENV: the DIB_* variables the build started with, one `declare -x` line each, sorted. */
export function dibEnvDeclarations(env: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[0].startsWith("DIB_") && e[1] !== undefined)
    .sort((a, b) => compareBytes(a[0], b[0]))
    .map(([name, value]) => declareExported(name, value))
    .join("\n");
}

/** IMAGE_ELEMENT_YAML: a block mapping name → path with sorted keys, like PyYAML's safe_dump. */
export function imageElementYaml(elements: readonly ResolvedElementRef[]): string {
  const plain = /^[A-Za-z0-9_/][A-Za-z0-9_./-]*$/;
  const special = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;
  const scalar = (s: string) =>
    plain.test(s) && !special.test(s) && !/^[0-9._-]+$/.test(s) ? s : JSON.stringify(s);
  if (elements.length === 0) return "{}\n";
  return sortedByName(elements)
    .map((e) => `${scalar(e.name)}: ${scalar(e.path)}\n`)
    .join("");
}

function sortedByName(elements: readonly ResolvedElementRef[]): ResolvedElementRef[] {
  return [...elements].sort((a, b) => compareBytes(a.name, b.name));
}

/**
 * The body of get_image_element_array: it prints `[name]=path ` pairs for
 * `eval declare -A image_elements=($(get_image_element_array))`. Paths with shell
 * metacharacters are quoted, which that eval undoes (DIB leaves them bare).
 */
export function imageElementArrayWords(elements: readonly ResolvedElementRef[]): string {
  return sortedByName(elements)
    .map((e) => `[${shellQuote(e.name)}]=${shellQuote(e.path)} `)
    .join("");
}

/** An exported bash function as bash itself passes it through the environment. */
function exportedFunction(name: string, body: string): [string, string] {
  return [`BASH_FUNC_${name}%%`, `() {  ${body}\n}`];
}

/**
 * The variables DIB exports to every hook (spec §1.3), under DIB's names, so DIB's own
 * element scripts run unchanged. Pure: the caller merges the result over the process's
 * environment (the user's DIB_* settings pass through that way, as with DIB's sudo -E).
 *
 * Left out: PS4/_ps4 (DIB's trace prefix needs a function of its own), and variables whose
 * value is not known yet (IMAGE_BLOCK_DEVICE before the block device exists, …), which
 * DIB leaves unset at that point too.
 */
export function hookEnvironment(input: HookEnvironmentInput): Record<string, string> {
  const hooksPath = input.hooksPath ?? join(input.buildDir, "hooks");
  const mountPath = input.mountPath ?? join(input.buildDir, "mnt");
  const env: Record<string, string> = {
    LC_ALL: "C",
    ARCH: input.arch,
    IMAGE_NAME: input.imageName,
    IMAGE_ELEMENT: input.elements.map((e) => e.name).join(" "),
    IMAGE_ELEMENT_YAML: imageElementYaml(input.elements),
    ELEMENTS_PATH: input.elementsPath.join(":"),
    DIB_IMAGE_CACHE: input.imageCache,
    DIB_OFFLINE: input.offline ? "1" : "",
    DIB_DEBUG_TRACE: String(input.debugTrace ?? 0),
    DIB_CHECKSUM: input.checksum ?? "0",
    DIB_NO_TMPFS: input.noTmpfs ? "1" : "0",
    DIB_MIN_TMPFS: String(input.minTmpfs ?? 2),
    FS_TYPE: input.fsType ?? "ext4",
    IMAGE_TYPE: input.imageType ?? "qcow2",
    TMP_BUILD_DIR: input.buildDir,
    TMP_IMAGE_DIR: input.imageDir,
    TMP_HOOKS_PATH: hooksPath,
    TMP_MOUNT_PATH: mountPath,
    DIB_ARGS: input.args.join(" "),
    DIB_ENV: dibEnvDeclarations(input.startEnv ?? {}),
  };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  set("DIB_LOCKFILES", input.lockfiles);
  set("OUT_IMAGE_PATH", input.outImagePath);
  // No TMP_IMAGE_PATH: DIB sets it after the image is unmounted, past the last hook phase,
  // so no hook ever sees it.
  set("DIB_IMAGE_SIZE", input.imageSizeKiB === undefined ? undefined : String(input.imageSizeKiB));
  set("_LIB", input.lib);
  set("DIB_PYTHON_EXEC", input.pythonExec);
  const bd = input.blockDevice;
  if (bd) {
    set("DIB_BLOCK_DEVICE_PARAMS_YAML", bd.paramsYaml);
    set("DIB_ROOT_LABEL", bd.rootLabel);
    set("DIB_ROOT_FSTYPE", bd.rootFstype);
    set("DIB_BOOT_LABEL", bd.bootLabel);
    set("DIB_MOUNTPOINTS", bd.mountpoints?.join("|"));
    set("IMAGE_BLOCK_DEVICE", bd.imageBlockDevice);
    if (bd.imageBlockDevices) {
      const pairs = Object.entries(bd.imageBlockDevices).map(
        ([name, dev]) => `[${shellQuote(name)}]=${shellQuote(dev)}`,
      );
      env.IMAGE_BLOCK_DEVICES = ` ${pairs.join("  ")} `;
    }
  }
  if (input.phase !== undefined && TARGET_ROOT_PHASES.has(input.phase.replace(/\.d$/, ""))) {
    env.TARGET_ROOT = mountPath;
  }
  const [fnName, fnBody] = exportedFunction(
    "get_image_element_array",
    `printf '%s\\n' ${shellQuote(imageElementArrayWords(input.elements))};`,
  );
  env[fnName] = fnBody;
  const [dieName, dieBody] = exportedFunction("die", `echo "ERROR: $*" >&2; exit 1;`);
  env[dieName] = dieBody;
  Object.assign(env, input.extra ?? {});
  return env;
}
