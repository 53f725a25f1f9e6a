import { describe, expect, it } from "vitest";
import { parseBuildOptions } from "./build-options.js";
import { checksumSetting, findOnPath, phaseEnvironment, runsInChroot } from "./hook-env.js";
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
      DIB_LEDGER_DIR: "/tmp/dib_build.x",
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
    expect(
      phaseEnvironment(options, workspace, variables, "extra-data", { root: false }).PATH,
    ).toBe("/tmp/dib_build.x/build/bin:/usr/bin:/bin");
  });

  it("puts the sudo stand-in on PATH for the outside phases of a root build only", () => {
    const shims = "/tmp/dib_build.x/build/hooks/dib-lib/shims";
    for (const phase of [
      "root",
      "extra-data",
      "post-root",
      "block-device",
      "pre-finalise",
      "cleanup",
    ]) {
      expect(phaseEnvironment(options, workspace, variables, phase, { root: true }).PATH).toBe(
        `/tmp/dib_build.x/build/bin:${shims}:/usr/bin:/bin`,
      );
    }
    for (const phase of ["pre-install", "install", "post-install", "finalise"]) {
      expect(
        phaseEnvironment(options, workspace, variables, phase, { root: true }).PATH,
      ).not.toContain(shims);
    }
  });

  it("sets _LIB in every phase: the hooks tree's copy outside, its /tmp/in_target.d view inside", () => {
    expect(phaseEnvironment(options, workspace, variables, "root")._LIB).toBe(
      "/tmp/dib_build.x/build/hooks/dib-lib",
    );
    expect(phaseEnvironment(options, workspace, variables, "cleanup")._LIB).toBe(
      "/tmp/dib_build.x/build/hooks/dib-lib",
    );
    expect(phaseEnvironment(options, workspace, variables, "install")._LIB).toBe(
      "/tmp/in_target.d/dib-lib",
    );
    expect(phaseEnvironment(options, workspace, variables, "finalise")._LIB).toBe(
      "/tmp/in_target.d/dib-lib",
    );
    expect(runsInChroot("post-install.d")).toBe(true);
    expect(runsInChroot("install-packages")).toBe(true);
    expect(runsInChroot("pre-finalise")).toBe(false);
  });

  it("sets DIB_PYTHON_EXEC to the user's choice, else the first python3 on the build's PATH", () => {
    const env = phaseEnvironment(options, workspace, variables, "root");
    expect(env.DIB_PYTHON_EXEC).toBe(findOnPath("python3", "/usr/bin:/bin"));
    expect(env.DIB_PYTHON_EXEC).toMatch(/python3$/);
    const chosen = parseBuildOptions({
      ...options,
      env: { ...options.env, DIB_PYTHON_EXEC: "/opt/py/bin/python3" },
    });
    expect(phaseEnvironment(chosen, workspace, variables, "root").DIB_PYTHON_EXEC).toBe(
      "/opt/py/bin/python3",
    );
    const none = parseBuildOptions({ ...options, env: { PATH: "/nonexistent" } });
    expect(phaseEnvironment(none, workspace, variables, "root").DIB_PYTHON_EXEC).toBeUndefined();
  });

  it("exports DIB_ENV as the DIB_* variables the build started with, and DIB_ARGS", () => {
    const env = phaseEnvironment(
      parseBuildOptions({ ...options, env: { ...options.env, DIB_X: 'a "b" $c' } }),
      workspace,
      variables,
      "install",
    );
    expect(env.DIB_ENV?.split("\n")).toEqual([
      'declare -x DIB_RELEASE="trixie"',
      'declare -x DIB_X="a \\"b\\" \\$c"',
    ]);
    expect(env.DIB_ARGS).toBe("-o out/img debian-minimal");
    expect(env.TMP_HOOKS_PATH).toBe("/tmp/dib_build.x/build/hooks");
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
