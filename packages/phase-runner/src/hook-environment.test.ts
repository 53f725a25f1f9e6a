import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  dibEnvDeclarations,
  hookEnvironment,
  imageElementArrayWords,
  imageElementYaml,
} from "./hook-environment.js";

const base = {
  arch: "amd64",
  imageName: "out/image",
  elements: [
    { name: "vm", path: "/e/vm" },
    { name: "base", path: "/e/base" },
    { name: "debian-minimal", path: "/e/with space/debian-minimal" },
  ],
  elementsPath: ["/mine", "/stock"],
  imageCache: "/root/.cache/image-create",
  buildDir: "/tmp/dib_build.abc",
  imageDir: "/tmp/dib_image.def",
  args: ["-o", "out/image", "vm", "base"],
};

function bash(env: Record<string, string>, script: string): string {
  // stdin from /dev/null: bash reads ~/.bashrc when its stdin is a socket (node's default pipe).
  return execFileSync("bash", ["-c", script], {
    env: { PATH: process.env.PATH, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("hookEnvironment", () => {
  it("exports DIB's variable names with DIB's defaults", () => {
    const env = hookEnvironment(base);
    expect(env).toMatchObject({
      LC_ALL: "C",
      ARCH: "amd64",
      IMAGE_NAME: "out/image",
      IMAGE_ELEMENT: "vm base debian-minimal",
      ELEMENTS_PATH: "/mine:/stock",
      DIB_IMAGE_CACHE: "/root/.cache/image-create",
      DIB_OFFLINE: "",
      DIB_DEBUG_TRACE: "0",
      DIB_NO_TMPFS: "0",
      DIB_MIN_TMPFS: "2",
      FS_TYPE: "ext4",
      TMP_BUILD_DIR: "/tmp/dib_build.abc",
      TMP_IMAGE_DIR: "/tmp/dib_image.def",
      TMP_HOOKS_PATH: "/tmp/dib_build.abc/hooks",
      TMP_MOUNT_PATH: "/tmp/dib_build.abc/mnt",
      DIB_ARGS: "-o out/image vm base",
    });
    expect(env.TARGET_ROOT).toBeUndefined();
    expect(env.IMAGE_BLOCK_DEVICE).toBeUndefined();
  });

  it("sets TARGET_ROOT only for root.d and cleanup.d", () => {
    expect(hookEnvironment({ ...base, phase: "root" }).TARGET_ROOT).toBe("/tmp/dib_build.abc/mnt");
    expect(hookEnvironment({ ...base, phase: "cleanup.d" }).TARGET_ROOT).toBe(
      "/tmp/dib_build.abc/mnt",
    );
    expect(hookEnvironment({ ...base, phase: "install" }).TARGET_ROOT).toBeUndefined();
    expect(hookEnvironment({ ...base, phase: "finalise" }).TARGET_ROOT).toBeUndefined();
  });

  it("exports the block-device facts once known, in DIB's string forms", () => {
    const env = hookEnvironment({
      ...base,
      offline: true,
      debugTrace: 2,
      imageSizeKiB: 2097152,
      blockDevice: {
        rootLabel: "cloudimg-rootfs",
        rootFstype: "ext4",
        bootLabel: "boot",
        mountpoints: ["/", "/boot"],
        imageBlockDevice: "/dev/loop3",
        imageBlockDevices: { image0: "/dev/loop3", root: "/dev/loop3p1" },
      },
    });
    expect(env).toMatchObject({
      DIB_OFFLINE: "1",
      DIB_DEBUG_TRACE: "2",
      DIB_IMAGE_SIZE: "2097152",
      DIB_ROOT_LABEL: "cloudimg-rootfs",
      DIB_ROOT_FSTYPE: "ext4",
      DIB_BOOT_LABEL: "boot",
      DIB_MOUNTPOINTS: "/|/boot",
      IMAGE_BLOCK_DEVICE: "/dev/loop3",
      IMAGE_BLOCK_DEVICES: " [image0]=/dev/loop3  [root]=/dev/loop3p1 ",
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
    const out = bash(env, 'eval declare -A devs=(${IMAGE_BLOCK_DEVICES}); echo "${devs[root]}"');
    expect(out).toBe("/dev/loop3p1\n");
  });

  it("exports get_image_element_array so `eval declare -A` gives name → path in bash", () => {
    const env = hookEnvironment(base);
    const out = bash(
      env,
      `set -eu
      eval declare -A image_elements=($(get_image_element_array))
      for name in $(printf '%s\\n' "\${!image_elements[@]}" | sort); do
        echo "$name=\${image_elements[$name]}"
      done`,
    );
    expect(out).toBe("base=/e/base\ndebian-minimal=/e/with space/debian-minimal\nvm=/e/vm\n");
  });

  it("the exported function survives `env -u` and a chroot-style env reset", () => {
    const env = hookEnvironment(base);
    const out = execFileSync(
      "env",
      ["-u", "TMPDIR", "PATH=/usr/bin:/bin", "HOME=/root", "bash", "-c", "get_image_element_array"],
      { env: { ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    expect(out).toBe(
      "[base]=/e/base [debian-minimal]='/e/with space/debian-minimal' [vm]=/e/vm \n",
    );
  });

  it("exports die(), which prints an error and fails", () => {
    const env = hookEnvironment(base);
    expect(() => bash(env, 'die "no luck"; echo not reached')).toThrow(/ERROR: no luck/);
  });

  it("keeps the DIB_* variables the build started with in DIB_ENV, as declare -x lines", () => {
    const env = hookEnvironment({
      ...base,
      startEnv: { DIB_RELEASE: "bookworm", HOME: "/root", DIB_X: 'a "q" $v `c` \\' },
    });
    expect(env.DIB_ENV).toBe(
      'declare -x DIB_RELEASE="bookworm"\ndeclare -x DIB_X="a \\"q\\" \\$v \\`c\\` \\\\"',
    );
    const out = bash(env, 'eval "$DIB_ENV"; printf "%s|%s" "$DIB_RELEASE" "$DIB_X"');
    expect(out).toBe('bookworm|a "q" $v `c` \\');
  });

  it("lets extra variables win", () => {
    expect(
      hookEnvironment({ ...base, extra: { FS_TYPE: "xfs", DIB_RELEASE: "12" } }),
    ).toMatchObject({
      FS_TYPE: "xfs",
      DIB_RELEASE: "12",
    });
  });
});

function hasPythonYaml(): boolean {
  try {
    execFileSync("python3", ["-c", "import yaml"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("IMAGE_ELEMENT_YAML", () => {
  it("is a block mapping with sorted keys", () => {
    expect(imageElementYaml(base.elements)).toBe(
      'base: /e/base\ndebian-minimal: "/e/with space/debian-minimal"\nvm: /e/vm\n',
    );
  });

  it.runIf(hasPythonYaml())("reads back with python's yaml as DIB's elements read it", () => {
    const yaml = imageElementYaml(base.elements);
    const parsed = execFileSync(
      "python3",
      [
        "-c",
        "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), sort_keys=True))",
      ],
      { input: yaml, encoding: "utf8" },
    );
    expect(JSON.parse(parsed)).toEqual({
      base: "/e/base",
      "debian-minimal": "/e/with space/debian-minimal",
      vm: "/e/vm",
    });
  });

  it("quotes words YAML would read as something else", () => {
    expect(
      imageElementYaml([
        { name: "yes", path: "/p" },
        { name: "1", path: "null" },
      ]),
    ).toBe('"1": "null"\n"yes": /p\n');
  });
});

describe("dibEnvDeclarations / imageElementArrayWords", () => {
  it("are empty for nothing", () => {
    expect(dibEnvDeclarations({})).toBe("");
    expect(imageElementArrayWords([])).toBe("");
  });
});
