import { basename } from "node:path";
import { DibError } from "@dib/host";
import { type ChecksumAlgorithm, parseChecksumSetting } from "./checksum.js";
import {
  type DockerReference,
  type OciPlatform,
  ociPlatform,
  parseDockerTarget,
} from "./docker-reference.js";
import { OUTPUT_TYPES, type OutputType, parseOutputTypes } from "./output-types.js";

/** What planOutputs needs to know; everything that varies per host is passed in as data. */
export interface PlanOutputsOptions {
  /** `-o`: may include a directory; file names are relative to the writer's cwd. */
  imageName: string;
  /** A raw disk image will be there (false for no-final-image and ramdisk builds). */
  hasDisk: boolean;
  /** A root tree will be there (default true). */
  hasTree?: boolean;
  /** qcow2 with `-c` (default true; `-u` turns it off). */
  compress?: boolean;
  /** `--qemu-img-options`: `-o` for every qemu-img conversion. */
  qemuImgOptions?: string;
  /**
   * DIB_QCOW2_COMPRESSION_TYPE: `zstd` writes compressed qcow2 clusters with zstd (about
   * four times faster than zlib, a little smaller) — opt-in, since readers older than
   * QEMU 5.1 cannot open such a file. Default: qemu-img's own, zlib.
   */
  qcow2CompressionType?: string;
  /** `--docker-target repo:tag`. */
  dockerTarget?: string;
  /** `--checksum` / DIB_CHECKSUM: `1`, `0`, `md5,sha256`, a boolean or a list. */
  checksum?: string | boolean | readonly string[];
  /** DIB_GZIP_BIN, may carry arguments (`pigz -p 4`); default `gzip`. */
  gzipBin?: string;
  /** OVERWRITE_OLD_IMAGE: replace an existing output instead of renaming it aside. */
  overwriteOld?: boolean;
  /** `-a` / ARCH, recorded in docker and OCI image configs (default: the host's). */
  arch?: string;
  /** A docker engine answers (`probeOutputHost`): `-t docker` imports into it. */
  dockerEngine?: boolean;
  /** vhd-util is installed (`probeOutputHost`): `-t vhd` goes through it, as DIB does. */
  vhdUtil?: boolean;
}

interface FileTarget {
  /** The output's final name, e.g. `out/image.qcow2`. */
  file: string;
  /** Where it is written before the rename: `out/image.qcow2-new`. */
  temp: string;
}

export type QemuImgType = "qcow2" | "vhd" | "vpc" | "vmdk" | "vdi" | "qed";

export type OutputStep =
  | (FileTarget & {
      type: QemuImgType;
      input: "disk";
      via: "qemu-img";
      /** qemu-img's `-O` name (vhd is `vpc`). */
      format: string;
      compress: boolean;
      qemuImgOptions?: string;
    })
  | (FileTarget & { type: "vhd"; input: "disk"; via: "vhd-util" })
  | (FileTarget & { type: "raw"; input: "disk"; via: "move" })
  | (FileTarget & { type: "tar"; input: "tar-stream"; via: "tar" })
  | (FileTarget & { type: "tgz"; input: "tar-stream"; via: "gzip"; gzip: string[] })
  | { type: "docker"; input: "tar-stream"; via: "docker-import"; image: DockerReference }
  | (FileTarget & {
      type: "docker";
      input: "tar-stream";
      via: "docker-archive";
      image: DockerReference;
      platform: OciPlatform;
    })
  | (FileTarget & {
      type: "oci";
      input: "tar-stream";
      via: "oci-archive";
      image: DockerReference;
      platform: OciPlatform;
      gzip: string[];
    })
  | (FileTarget & { type: "squashfs"; input: "tree"; via: "mksquashfs"; compressor: string });

export interface OutputStage {
  /**
   * `tree`: everything read from the root tree, in one tar pass plus mksquashfs; `disk`:
   * conversions of the raw image, in parallel; `raw`: the raw image itself, last, since
   * moving it consumes the input of the others.
   */
  name: "tree" | "disk" | "raw";
  steps: OutputStep[];
}

export interface OutputPlan {
  imageName: string;
  types: OutputType[];
  /** Run in this order; the steps of one stage run in parallel. */
  stages: OutputStage[];
  checksums: ChecksumAlgorithm[];
  overwriteOld: boolean;
  /** Host tools the plan runs, for requireTools before a long build. */
  tools: string[];
}

function fileTarget(imageName: string, type: OutputType): FileTarget {
  const file = `${imageName}.${OUTPUT_TYPES[type].extension}`;
  return { file, temp: `${file}-new` };
}

function splitCommand(command: string): string[] {
  const words = command.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) {
    throw new DibError("DIB_OUTPUT_GZIP_BIN", "DIB_GZIP_BIN is empty", {
      hint: "set it to gzip, pigz or another gzip-compatible program",
    });
  }
  return words;
}

/** The image reference for OCI when no --docker-target is given: `<name>:latest`. */
function defaultReference(imageName: string): DockerReference {
  const name = basename(imageName)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  try {
    return parseDockerTarget(name || "image");
  } catch {
    return parseDockerTarget("image");
  }
}

function requireDockerTarget(target: string | undefined): DockerReference {
  if (target === undefined || target.trim() === "") {
    throw new DibError("DIB_OUTPUT_DOCKER_TARGET", "Please set --docker-target.", {
      hint: "-t docker needs the image name and tag to give it, e.g. --docker-target my-image:latest",
    });
  }
  return parseDockerTarget(target.trim());
}

/**
 * Turns `-t` and the options into the conversion steps, without touching the host: which
 * input each needs, the order, the file names. DIB's quirks are fixed here: squashfs works
 * in any position, `-t tar,tgz` keeps both, and qcow2 compression does not depend on the
 * order of `-t`.
 */
export function planOutputs(types: readonly string[], options: PlanOutputsOptions): OutputPlan {
  const imageName = options.imageName;
  if (imageName.trim() === "" || imageName.endsWith("/")) {
    throw new DibError("DIB_OUTPUT_IMAGE_NAME", `invalid image name "${imageName}"`, {
      hint: "-o names the output files without their extension, e.g. -o out/my-image",
    });
  }
  const wanted = parseOutputTypes(types);
  const hasTree = options.hasTree ?? true;
  const missingDisk = wanted.filter((t) => OUTPUT_TYPES[t].input === "disk" && !options.hasDisk);
  if (missingDisk.length > 0) {
    throw new DibError(
      "DIB_OUTPUT_NEEDS_DISK",
      `output type ${missingDisk.join(", ")} needs a disk image, and this build makes none`,
      { hint: "drop the disk types from -t (no-final-image and ramdisk builds only have a tree)" },
    );
  }
  const missingTree = wanted.filter((t) => OUTPUT_TYPES[t].input !== "disk" && !hasTree);
  if (missingTree.length > 0) {
    throw new DibError(
      "DIB_OUTPUT_NEEDS_TREE",
      `output type ${missingTree.join(", ")} needs the image's root tree, and none was given`,
      { hint: "tar, tgz, squashfs, docker and oci are made from the root tree" },
    );
  }

  const gzip = splitCommand(options.gzipBin ?? "gzip");
  const compress = options.compress ?? true;
  const platform = ociPlatform(options.arch);
  const tree: OutputStep[] = [];
  const disk: OutputStep[] = [];
  const raw: OutputStep[] = [];
  const tools = new Set<string>();

  for (const type of wanted) {
    switch (type) {
      case "tar":
        tree.push({ type, input: "tar-stream", via: "tar", ...fileTarget(imageName, type) });
        tools.add("tar");
        break;
      case "tgz":
        tree.push({ type, input: "tar-stream", via: "gzip", gzip, ...fileTarget(imageName, type) });
        tools.add("tar").add(gzip[0] as string);
        break;
      case "docker": {
        const image = requireDockerTarget(options.dockerTarget);
        if (options.dockerEngine) {
          tree.push({ type, input: "tar-stream", via: "docker-import", image });
          tools.add("tar").add("docker");
        } else {
          tree.push({
            type,
            input: "tar-stream",
            via: "docker-archive",
            image,
            platform,
            ...fileTarget(imageName, type),
          });
          tools.add("tar");
        }
        break;
      }
      case "oci": {
        const image = options.dockerTarget?.trim()
          ? parseDockerTarget(options.dockerTarget.trim())
          : defaultReference(imageName);
        tree.push({
          type,
          input: "tar-stream",
          via: "oci-archive",
          image,
          platform,
          gzip,
          ...fileTarget(imageName, type),
        });
        tools.add("tar").add(gzip[0] as string);
        break;
      }
      case "squashfs":
        tree.push({
          type,
          input: "tree",
          via: "mksquashfs",
          compressor: "xz",
          ...fileTarget(imageName, type),
        });
        tools.add("mksquashfs");
        break;
      case "raw":
        raw.push({
          type,
          input: "disk",
          via: "move",
          ...fileTarget(imageName, type),
        });
        break;
      case "vhd":
        if (options.vhdUtil) {
          disk.push({ type, input: "disk", via: "vhd-util", ...fileTarget(imageName, type) });
          tools.add("vhd-util");
          break;
        }
        disk.push(qemuImgStep(type, "vpc", imageName, false, options.qemuImgOptions));
        tools.add("qemu-img");
        break;
      default:
        disk.push(
          qemuImgStep(
            type,
            type === "vpc" ? "vpc" : type,
            imageName,
            type === "qcow2" && compress,
            type === "qcow2" ? withCompressionType(options) : options.qemuImgOptions,
          ),
        );
        tools.add("qemu-img");
    }
  }

  const stages: OutputStage[] = [];
  if (tree.length > 0) stages.push({ name: "tree", steps: tree });
  if (disk.length > 0) stages.push({ name: "disk", steps: disk });
  if (raw.length > 0) stages.push({ name: "raw", steps: raw });
  return {
    imageName,
    types: wanted,
    stages,
    checksums: parseChecksumSetting(options.checksum),
    overwriteOld: options.overwriteOld ?? false,
    tools: [...tools],
  };
}

/** The qcow2 `-o` options: --qemu-img-options plus compression_type when asked for. */
function withCompressionType(options: PlanOutputsOptions): string | undefined {
  const kind = options.qcow2CompressionType?.trim();
  if (kind === undefined || kind === "") return options.qemuImgOptions;
  if (kind !== "zlib" && kind !== "zstd") {
    throw new DibError(
      "DIB_BAD_QCOW2_COMPRESSION",
      `DIB_QCOW2_COMPRESSION_TYPE=${kind} is not a qcow2 compression type`,
      { hint: "use zstd (faster, needs QEMU 5.1 or later to read) or zlib (the default)" },
    );
  }
  return [options.qemuImgOptions?.trim(), `compression_type=${kind}`]
    .filter((o) => o !== undefined && o !== "")
    .join(",");
}

function qemuImgStep(
  type: QemuImgType,
  format: string,
  imageName: string,
  compress: boolean,
  qemuImgOptions: string | undefined,
): OutputStep {
  const options = qemuImgOptions?.trim();
  return {
    type,
    input: "disk",
    via: "qemu-img",
    format,
    compress,
    ...(options ? { qemuImgOptions: options } : {}),
    ...fileTarget(imageName, type),
  };
}

/** Every step of the plan, in the order the stages run. */
export function planSteps(plan: OutputPlan): OutputStep[] {
  return plan.stages.flatMap((s) => s.steps);
}
