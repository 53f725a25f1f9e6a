import { describe, expect, it } from "vitest";
import { type BuildCommand, parseBuildArgs, parseChecksumSetting } from "./build-args.js";

const env = { HOME: "/home/me", PATH: "/usr/bin:/bin" };

function build(argv: string[], extraEnv: Record<string, string> = {}) {
  const parsed = parseBuildArgs(argv, { ...env, ...extraEnv }, "/work");
  if (parsed.kind !== "build") throw new Error(`expected a build, got ${parsed.kind}`);
  return parsed;
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error("expected an error");
}

describe("parseBuildArgs: defaults", () => {
  it("builds a qcow2 named image with DIB's defaults", () => {
    const { options, display } = build(["debian-minimal"]);
    expect(options).toMatchObject({
      elements: ["debian-minimal"],
      imageName: "image",
      imageTypes: ["qcow2"],
      debugTrace: 0,
      compress: true,
      skipBase: false,
      installPackages: [],
      checksums: [],
      imageCache: "/home/me/.cache/image-create",
      lockfilesDir: "/home/me/.cache/dib/lockfiles",
      mkfsOptions: "",
      noTmpfs: false,
      offline: false,
      installType: "source",
      elementsPath: [],
      tmpDir: "/tmp",
      fsType: "ext4",
      gzipBin: "gzip",
      overwriteOldImage: false,
      cwd: "/work",
    });
    expect(options.arch).toBeUndefined();
    expect(display).toEqual({ json: false, console: "phases", timestamps: true, trace: false });
  });

  it("uses the stage cache unless DIB_STAGE_CACHE=0 or --no-cache", () => {
    expect(build(["x"]).options.stageCache).toBe("on");
    expect(build(["x"], { DIB_STAGE_CACHE: "1" }).options.stageCache).toBe("on");
    expect(build(["x"], { DIB_STAGE_CACHE: "" }).options.stageCache).toBe("on");
    expect(build(["x"], { DIB_STAGE_CACHE: "0" }).options.stageCache).toBe("off");
    expect(build(["--no-cache", "x"], { DIB_STAGE_CACHE: "0" }).options.stageCache).toBe("bypass");
  });
});

describe("parseBuildArgs: every option", () => {
  it("maps the short options", () => {
    const { options } = build([
      "-a",
      "arm64",
      "-o",
      "out/img",
      "-t",
      "qcow2,tar",
      "-u",
      "-n",
      "-p",
      "vim,curl",
      "-p",
      "htop",
      "fake-os",
    ]);
    expect(options).toMatchObject({
      arch: "arm64",
      imageName: "out/img",
      imageTypes: ["qcow2", "tar"],
      compress: false,
      skipBase: true,
      installPackages: ["vim", "curl", "htop"],
    });
  });

  it("maps every long option", () => {
    const { options, display } = build([
      "--checksum",
      "--image-size",
      "1.5",
      "--image-extra-size",
      "512",
      "--image-cache",
      "/var/cache/dib",
      "--max-online-resize",
      "274877906944",
      "--min-tmpfs",
      "3",
      "--mkfs-journal-size",
      "32",
      "--mkfs-options",
      "-m 1 -b 4096",
      "--no-tmpfs",
      "--offline",
      "--qemu-img-options",
      "compat=1.1,lazy_refcounts=on",
      "--root-label",
      "root",
      "--ramdisk-element",
      "dracut-ramdisk",
      "--install-type",
      "package",
      "--docker-target",
      "me/img:1",
      "--logfile",
      "/tmp/build.log",
      "--keep-on-failure",
      "--json",
      "debian-minimal",
    ]);
    expect(options).toMatchObject({
      checksums: ["md5", "sha256"],
      imageSizeGb: 1.5,
      imageExtraSizeMb: 512,
      imageCache: "/var/cache/dib",
      maxOnlineResize: 274877906944,
      minTmpfsGb: 3,
      journalSizeMb: 32,
      mkfsOptions: "-m 1 -b 4096",
      noTmpfs: true,
      offline: true,
      qemuImgOptions: "compat=1.1,lazy_refcounts=on",
      rootLabel: "root",
      ramdiskElement: "dracut-ramdisk",
      installType: "package",
      dockerTarget: "me/img:1",
      logfile: "/tmp/build.log",
      keepOnFailure: true,
    });
    expect(display.json).toBe(true);
  });

  it("counts -x on top of DIB_DEBUG_TRACE, clustered or not", () => {
    expect(build(["-x", "-x", "fake-os"]).options.debugTrace).toBe(2);
    expect(build(["-xxu", "fake-os"], { DIB_DEBUG_TRACE: "1" }).options).toMatchObject({
      debugTrace: 3,
      compress: false,
    });
    expect(build(["-x", "fake-os"]).display).toMatchObject({ trace: true, console: "verbose" });
  });

  it("answers help and version before anything else", () => {
    expect(parseBuildArgs(["-h"], env).kind).toBe("help");
    expect(parseBuildArgs(["--help", "--bogus-is-not-reached"].slice(0, 1), env).kind).toBe("help");
    expect(parseBuildArgs(["--version"], env).kind).toBe("version");
  });
});

describe("parseBuildArgs: GNU getopt rules", () => {
  it("lets options and element names be mixed, keeping the element order", () => {
    const { options } = build(["debian-minimal", "-o", "out", "vm", "-t", "tar", "growroot"]);
    expect(options.elements).toEqual(["debian-minimal", "vm", "growroot"]);
    expect(options.imageName).toBe("out");
  });

  it("accepts --opt=value, attached short values and unambiguous prefixes", () => {
    const { options } = build(["--image-s=2", "-ofoo", "--root-l", "r", "--no-t", "fake-os"]);
    expect(options).toMatchObject({
      imageSizeGb: 2,
      imageName: "foo",
      rootLabel: "r",
      noTmpfs: true,
    });
  });

  it("treats everything after -- as element names", () => {
    expect(build(["-n", "--", "-odd-element"]).options.elements).toEqual(["-odd-element"]);
  });

  it("rejects unknown, ambiguous and malformed options", () => {
    expect(errorOf(() => parseBuildArgs(["--bogus", "x"], env))).toMatchObject({
      code: "DIB_BAD_ARGUMENT",
      message: "unrecognized option '--bogus'",
    });
    expect(errorOf(() => parseBuildArgs(["--m", "1", "x"], env)).message).toMatch(/ambiguous/);
    expect(errorOf(() => parseBuildArgs(["--no-tmpfs=1", "x"], env)).message).toBe(
      "option '--no-tmpfs' doesn't allow an argument",
    );
    expect(errorOf(() => parseBuildArgs(["x", "-o"], env)).message).toBe(
      "option requires an argument -- 'o'",
    );
    expect(errorOf(() => parseBuildArgs(["-q", "x"], env)).message).toBe("invalid option -- 'q'");
  });

  it("rejects values that are not numbers where numbers are needed", () => {
    expect(errorOf(() => parseBuildArgs(["--image-size", "big", "x"], env)).message).toMatch(
      /--image-size needs a size in GB/,
    );
    expect(errorOf(() => parseBuildArgs(["--mkfs-journal-size", "1.5", "x"], env)).code).toBe(
      "DIB_BAD_ARGUMENT",
    );
    expect(errorOf(() => parseBuildArgs(["--install-type", "binary", "x"], env)).message).toMatch(
      /'source' or 'package'/,
    );
  });
});

describe("parseBuildArgs: where DIB goes wrong", () => {
  it("accepts --image-extra-size and --mkfs-journal-size (DIB's getopt rejects them)", () => {
    expect(
      build(["--image-extra-size", "100", "--mkfs-journal-size", "16", "x"]).options,
    ).toMatchObject({
      imageExtraSizeMb: 100,
      journalSizeMb: 16,
    });
  });

  it("makes -c clear the environment except the safe list", () => {
    const { options } = build(["-c", "fake-os"], {
      ELEMENTS_PATH: "/mine",
      DIB_RELEASE: "trixie",
      DIB_IMAGE_CACHE: "/elsewhere",
      http_proxy: "http://proxy:3128",
    });
    expect(options.env).toEqual({ ...env, http_proxy: "http://proxy:3128" });
    expect(options.elementsPath).toEqual([]);
    expect(options.imageCache).toBe("/home/me/.cache/image-create");
  });

  it("passes -o as given; the builder drops a trailing .type once", () => {
    expect(build(["-o", "foo.qcow2", "-t", "qcow2", "x"]).options.imageName).toBe("foo.qcow2");
  });

  it("refuses a build without elements with DIB's message", () => {
    expect(errorOf(() => parseBuildArgs(["-o", "x"], env))).toMatchObject({
      code: "DIB_NO_ELEMENTS",
      message: "At least one distribution root element must be specified",
    });
  });
});

describe("parseBuildArgs: environment variables", () => {
  it("reads the §1.2 variables when no option overrides them", () => {
    const { options } = build(["fake-os"], {
      ELEMENTS_PATH: "/a::/b",
      ARCH: "arm64",
      IMAGE_NAME: "named",
      DIB_IMAGE_SIZE: "3",
      DIB_IMAGE_EXTRA_SIZE: "200",
      DIB_JOURNAL_SIZE: "128",
      MAX_ONLINE_RESIZE: "1000",
      DIB_BLOCK_DEVICE_CONFIG: "file:///x.yaml",
      DIB_BLOCK_SIZE: "4096",
      DIB_IMAGE_CACHE: "/cache",
      DIB_LOCKFILES: "/locks",
      TMP_DIR: "/var/tmp",
      DIB_MIN_TMPFS: "1",
      DIB_OFFLINE: "1",
      DIB_CHECKSUM: "sha256",
      DIB_SHOW_IMAGE_USAGE: "1",
      DIB_GZIP_BIN: "pigz",
      DIB_DEFAULT_INSTALLTYPE: "package",
      OVERWRITE_OLD_IMAGE: "1",
      ROOT_LABEL: "rootfs",
      FS_TYPE: "xfs",
      QEMU_IMG_OPTIONS: "compat=0.10",
      break: "before-install,after-error",
      break_cmd: "true",
      break_outside_target: "1",
    });
    expect(options).toMatchObject({
      elementsPath: ["/a", "/b"],
      arch: "arm64",
      imageName: "named",
      imageSizeGb: 3,
      imageExtraSizeMb: 200,
      journalSizeMb: 128,
      maxOnlineResize: 1000,
      blockDeviceConfig: "file:///x.yaml",
      blockSize: 4096,
      imageCache: "/cache",
      lockfilesDir: "/locks",
      tmpDir: "/var/tmp",
      minTmpfsGb: 1,
      offline: true,
      checksums: ["sha256"],
      showImageUsage: true,
      gzipBin: "pigz",
      installType: "package",
      overwriteOldImage: true,
      rootLabel: "rootfs",
      fsType: "xfs",
      qemuImgOptions: "compat=0.10",
      breakpoints: ["before-install", "after-error"],
      breakCmd: "true",
      breakOutsideTarget: true,
    });
  });

  it("lets options win over the environment", () => {
    const { options } = build(
      ["-a", "amd64", "--image-size", "2", "--root-label", "opt", "fake-os"],
      {
        ARCH: "arm64",
        DIB_IMAGE_SIZE: "9",
        ROOT_LABEL: "env",
      },
    );
    expect(options).toMatchObject({ arch: "amd64", imageSizeGb: 2, rootLabel: "opt" });
  });

  it("treats 0 and empty as off for DIB's switches", () => {
    const { options } = build(["fake-os"], {
      DIB_NO_TMPFS: "0",
      DIB_OFFLINE: "",
      OVERWRITE_OLD_IMAGE: "0",
    });
    expect(options).toMatchObject({ noTmpfs: false, offline: false, overwriteOldImage: false });
  });

  it("builds on disk for hardened Gentoo profiles", () => {
    expect(
      build(["gentoo"], { GENTOO_PROFILE: "default/linux/amd64/23.0/hardened" }).options.noTmpfs,
    ).toBe(true);
  });

  it("keeps the console quiet with --logfile unless DIB_QUIET says otherwise", () => {
    expect(build(["--logfile", "l", "x"]).display.console).toBe("silent");
    expect(build(["--logfile", "l", "x"], { DIB_QUIET: "0" }).display.console).toBe("verbose");
    expect(build(["x"], { DIB_QUIET: "1" }).display.console).toBe("silent");
    expect(build(["x"], { DIB_NO_TIMESTAMP: "1" }).display.timestamps).toBe(false);
  });

  it("records the command line for DIB_ARGS and passes the environment on", () => {
    const { options } = build(["-o", "my image", "fake-os"], { DIB_RELEASE: "bookworm" });
    expect(options.dibArgs).toBe("-o 'my image' fake-os");
    expect(options.env).toMatchObject({ DIB_RELEASE: "bookworm", HOME: "/home/me" });
  });
});

describe("parseBuildArgs: image files", () => {
  it("builds from YAML image files with --dry-run and --stop-on-failure", () => {
    const parsed: BuildCommand = parseBuildArgs(
      ["images.yaml", "--dry-run", "more.yml", "--stop-on-failure"],
      env,
    );
    expect(parsed).toMatchObject({
      kind: "image-files",
      files: ["images.yaml", "more.yml"],
      dryRun: true,
      stopOnFailure: true,
    });
  });

  it("refuses build options next to image files, and image-file options without them", () => {
    expect(errorOf(() => parseBuildArgs(["-o", "x", "images.yaml"], env)).message).toMatch(
      /cannot be combined/,
    );
    expect(errorOf(() => parseBuildArgs(["images.yaml", "vm"], env)).message).toMatch(/cannot mix/);
    expect(errorOf(() => parseBuildArgs(["--dry-run", "vm"], env)).message).toMatch(
      /only applies to image files/,
    );
  });
});

describe("parseChecksumSetting", () => {
  it("reads DIB_CHECKSUM's three forms", () => {
    expect(parseChecksumSetting(undefined)).toEqual([]);
    expect(parseChecksumSetting("0")).toEqual([]);
    expect(parseChecksumSetting("1")).toEqual(["md5", "sha256"]);
    expect(parseChecksumSetting("sha256,md5")).toEqual(["md5", "sha256"]);
    expect(parseChecksumSetting("sha256")).toEqual(["sha256"]);
  });
});

describe("DIB_CHECKSUM", () => {
  it("refuses an algorithm it cannot write instead of dropping it", () => {
    expect(errorOf(() => parseBuildArgs(["x"], { DIB_CHECKSUM: "sha1" }))).toMatchObject({
      code: "DIB_OUTPUT_CHECKSUM",
    });
  });
});
