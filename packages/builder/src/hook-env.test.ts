import { describe, expect, it } from "vitest";
import { parseBuildOptions } from "./build-options.js";
import { checksumSetting, phaseEnvironment } from "./hook-env.js";
import type { Workspace } from "./workspace.js";

const workspace = {
  dir: "/tmp/dib_build.x",
  root: "/tmp/dib_build.x/build",
  hooksDir: "/tmp/dib_build.x/build/hooks",
  mountDir: "/tmp/dib_build.x/build/mnt",
  builtDir: "/tmp/dib_build.x/build/built",
  imageDir: "/tmp/dib_build.x/build/image",
  binDir: "/tmp/dib_build.x/build/bin",
} as Workspace;

const options = parseBuildOptions({
  elements: ["debian-minimal"],
  imageName: "out/img",
  imageCache: "/cache",
  lockfilesDir: "/locks",
  cwd: "/work",
  offline: true,
  installType: "package",
  env: { PATH: "/usr/bin:/bin", HOME: "/root", DIB_RELEASE: "trixie" },
  dibArgs: "-o out/img debian-minimal",
});
const variables = {
  arch: "amd64",
  elements: [{ name: "debian-minimal", path: "/e/debian-minimal" }],
};

describe("phaseEnvironment", () => {
  it("gives hooks DIB's variables over the build's starting environment", () => {
    const env = phaseEnvironment(options, workspace, variables, "install");
    expect(env).toMatchObject({
      HOME: "/root",
      DIB_RELEASE: "trixie",
      ARCH: "amd64",
      IMAGE_NAME: "out/img",
      IMAGE_ELEMENT: "debian-minimal",
      DIB_IMAGE_CACHE: "/cache",
      DIB_OFFLINE: "1",
      DIB_DEFAULT_INSTALLTYPE: "package",
      TMP_BUILD_DIR: "/tmp/dib_build.x/build",
      TMP_HOOKS_PATH: "/tmp/dib_build.x/build/hooks",
      TMP_MOUNT_PATH: "/tmp/dib_build.x/build/mnt",
      DIB_ARGS: "-o out/img debian-minimal",
      LC_ALL: "C",
    });
    expect(env.DIB_ENV).toContain('declare -x DIB_RELEASE="trixie"');
    expect(env.TARGET_ROOT).toBeUndefined();
  });

  it("puts the workspace's bin first on PATH, so hooks find dib-cli", () => {
    expect(phaseEnvironment(options, workspace, variables, "extra-data").PATH).toBe(
      "/tmp/dib_build.x/build/bin:/usr/bin:/bin",
    );
  });

  it("sets TARGET_ROOT for root.d and cleanup.d only", () => {
    expect(phaseEnvironment(options, workspace, variables, "root").TARGET_ROOT).toBe(
      "/tmp/dib_build.x/build/mnt",
    );
    expect(phaseEnvironment(options, workspace, variables, "cleanup").TARGET_ROOT).toBeDefined();
    expect(phaseEnvironment(options, workspace, variables, "finalise").TARGET_ROOT).toBeUndefined();
  });

  it("adds the block device and size once they are known", () => {
    const env = phaseEnvironment(
      options,
      workspace,
      {
        ...variables,
        imageSizeKiB: 2097152,
        blockDevice: {
          rootLabel: "cloudimg-rootfs",
          rootFstype: "ext4",
          mountpoints: ["/", "/boot"],
          imageBlockDevice: "/dev/loop3",
        },
      },
      "finalise",
    );
    expect(env).toMatchObject({
      DIB_IMAGE_SIZE: "2097152",
      DIB_ROOT_LABEL: "cloudimg-rootfs",
      DIB_ROOT_FSTYPE: "ext4",
      DIB_MOUNTPOINTS: "/|/boot",
      IMAGE_BLOCK_DEVICE: "/dev/loop3",
    });
  });

  it("writes DIB_CHECKSUM the way hooks read it", () => {
    expect([[], ["md5", "sha256"], ["sha256"]].map(checksumSetting)).toEqual(["0", "1", "sha256"]);
  });
});
