import { execFileSync, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { afterAll, describe, expect, it } from "vitest";
import {
  HOOK_LIBRARY_FILES,
  hookLibraryDir,
  installHookLibrary,
  sudoShimDir,
} from "./hook-library.js";

const scratch = mkdtempSync(join(tmpdir(), "dib-hook-lib-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs a bash snippet with _LIB set to the shipped library, as a hook would. */
function bash(script: string, env: Record<string, string> = {}) {
  const result = spawnSync("bash", ["-c", `set -eu\n${script}`], {
    env: { PATH, LC_ALL: "C", HOME: scratch, _LIB: hookLibraryDir(), ...env },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function touch(...paths: string[]) {
  for (const path of paths) {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, "");
  }
}

describe("die", () => {
  it("prints ERROR: and fails even when the command before it succeeded", () => {
    const r = bash('source "$_LIB/die"; true; die "TMP_HOOKS_PATH not set"');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ERROR: TMP_HOOKS_PATH not set\n");
  });

  it("keeps the failing command's status", () => {
    expect(bash('source "$_LIB/die"; (exit 3) || die "no"').code).toBe(3);
  });
});

describe("select_boot_kernel_initrd", () => {
  it("picks the newest Debian kernel and its own initrd", () => {
    const root = join(scratch, "debian");
    touch(
      join(root, "etc/debian_version"),
      join(root, "boot/vmlinuz-6.1.0-9-amd64"),
      join(root, "boot/vmlinuz-6.1.0-28-amd64"),
      join(root, "boot/initrd.img-6.1.0-9-amd64"),
      join(root, "boot/initrd.img-6.1.0-28-amd64"),
    );
    const r = bash(
      `source "$_LIB/img-functions"; select_boot_kernel_initrd ${root}; echo "$KERNEL $RAMDISK"`,
    );
    expect(r.stdout).toBe("vmlinuz-6.1.0-28-amd64 initrd.img-6.1.0-28-amd64\n");
  });

  it("takes a Red Hat kernel's initramfs and fails when it is missing", () => {
    const root = join(scratch, "redhat");
    touch(
      join(root, "etc/redhat-release"),
      join(root, "boot/vmlinuz-5.14.0-70.el9.x86_64"),
      join(root, "boot/vmlinuz-0-rescue-abc"),
      join(root, "boot/initramfs-5.14.0-70.el9.x86_64.img"),
    );
    const ok = bash(
      `source "$_LIB/img-functions"; select_boot_kernel_initrd ${root}; echo "$KERNEL $RAMDISK"`,
    );
    expect(ok.stdout).toBe("vmlinuz-5.14.0-70.el9.x86_64 initramfs-5.14.0-70.el9.x86_64.img\n");
    rmSync(join(root, "boot/initramfs-5.14.0-70.el9.x86_64.img"));
    const missing = bash(`source "$_LIB/img-functions"; select_boot_kernel_initrd ${root}`);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(
      "Can't find an initramfs for the 5.14.0-70.el9.x86_64 version",
    );
  });

  it("follows openSUSE's vmlinuz/initrd links and honours the two pattern variables", () => {
    const root = join(scratch, "suse");
    touch(join(root, "boot/vmlinuz-6.4.0-1-default"), join(root, "boot/initrd-6.4.0-1-default"));
    symlinkSync("vmlinuz-6.4.0-1-default", join(root, "boot/vmlinuz"));
    symlinkSync("initrd-6.4.0-1-default", join(root, "boot/initrd"));
    const suse = bash(
      `source "$_LIB/img-functions"; select_boot_kernel_initrd ${root}; echo "$KERNEL $RAMDISK"`,
    );
    expect(suse.stdout).toBe("vmlinuz-6.4.0-1-default initrd-6.4.0-1-default\n");
    touch(join(root, "boot/custom-kernel"), join(root, "boot/custom-ramdisk"));
    const custom = bash(
      `source "$_LIB/img-functions"; select_boot_kernel_initrd ${root}; echo "$KERNEL $RAMDISK"`,
      {
        DIB_BAREMETAL_KERNEL_PATTERN: "custom-k*",
        DIB_BAREMETAL_INITRD_PATTERN: "custom-r*",
      },
    );
    expect(custom.stdout).toBe("custom-kernel custom-ramdisk\n");
  });
});

describe("common-functions", () => {
  it("tmpfs_check is false with DIB_NO_TMPFS=1 and when RAM is short, saying why", () => {
    expect(bash('source "$_LIB/common-functions"; tmpfs_check', { DIB_NO_TMPFS: "1" }).code).toBe(
      1,
    );
    const short = bash('source "$_LIB/common-functions"; tmpfs_check', { DIB_MIN_TMPFS: "100000" });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(
      /^WARNING: Not enough RAM to use tmpfs for build\. Using \/tmp\. \(\d+ < 200000G\)/,
    );
    expect(bash('source "$_LIB/common-functions"; tmpfs_check', { DIB_MIN_TMPFS: "0" }).code).toBe(
      0,
    );
  });

  it("run_d runs a hooks folder with dib-run-parts and eval_run_d hands variables back", () => {
    const hooks = join(scratch, "hooks");
    installHookLibrary(hooks);
    mkdirSync(join(hooks, "my-phase.d"), { recursive: true });
    writeFileSync(
      join(hooks, "my-phase.d", "10-say"),
      '#!/bin/bash\necho "hello from $0"\necho "MY_DEVICE=/dev/loop7"\n',
      { mode: 0o755 },
    );
    const r = bash(
      'source "$_LIB/common-functions"; eval_run_d my-phase "MY_DEVICE="; echo "got $MY_DEVICE"',
      { _LIB: join(hooks, "dib-lib"), TMP_HOOKS_PATH: hooks },
    );
    expect(r.stderr).toContain(`Running hooks from ${hooks}/my-phase.d`);
    expect(r.stderr).toContain("dib-run-parts Running");
    // The hooks' output still shows (through tee), then the caller sees the variable.
    expect(r.stdout).toBe(
      `hello from ${hooks}/my-phase.d/10-say\nMY_DEVICE=/dev/loop7\ngot /dev/loop7\n`,
    );
    expect(r.code).toBe(0);
  });

  it("check_break runs the command only at a point named in $break", () => {
    const r = bash(
      'source "$_LIB/common-functions"; check_break after-install echo STOP; check_break before-root echo NO',
      {
        break: "before-install,after-install",
      },
    );
    expect(r.stdout).toBe("STOP\n");
    expect(r.stderr).toContain("At stage after-install");
  });

  it("dib_log and outfilter stamp lines with UTC milliseconds and drop xtrace toggles", () => {
    const stamp = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| /;
    const log = bash('source "$_LIB/common-functions"; dib_log INFO "made it"');
    expect(log.stderr).toMatch(new RegExp(`${stamp.source}INFO: made it\\n$`));
    const out = join(scratch, "out.log");
    const r = bash(`printf 'one\\n+ set +o xtrace\\ntwo' | "$_LIB/outfilter" -v -o ${out}`);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`${stamp.source}one$`));
    expect(lines[1]).toMatch(new RegExp(`${stamp.source}two$`));
    expect(execFileSync("cat", [out], { encoding: "utf8" })).toBe(r.stdout);
  });

  it("defaults fill in only what is unset", () => {
    const r = bash(
      'source "$_LIB/img-defaults"; echo "$ARCH $FS_TYPE $IMAGE_NAME $DIB_MIN_TMPFS"',
      {
        ARCH: "arm64",
        IMAGE_NAME: "mine",
      },
    );
    expect(r.stdout).toBe("arm64 ext4 mine 2\n");
  });

  it("ramdisk-functions finds the kernel version", () => {
    const root = join(scratch, "rd");
    touch(join(root, "boot/vmlinuz-6.1.0-9-amd64"), join(root, "boot/vmlinuz-6.12.1-amd64"));
    const r = bash(
      `source "$_LIB/ramdisk-functions"; find_kernel_version ${root}; echo "$KERNEL_VERSION"`,
    );
    expect(r.stdout).toBe("6.12.1-amd64\n");
  });
});

describe.runIf(isRoot)(`sudo stand-in, as root${rootOnlyReason}`, () => {
  const sudo = join(sudoShimDir(), "sudo");
  it("runs the command keeping the environment, with -E, -n, -u root, -- and VAR=value words", () => {
    const r = bash(
      `"${sudo}" -E -n -u root -- A=1 B="two words" sh -c 'echo "$A/$B/$KEEP"'; "${sudo}" -En true; "${sudo}" -u root true`,
      { KEEP: "kept" },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1/two words/kept\n");
    expect(r.code).toBe(0);
  });

  it("passes the command's exit status through and refuses options it does not know", () => {
    expect(bash(`"${sudo}" sh -c 'exit 7'`).code).toBe(7);
    const bad = bash(`"${sudo}" -Z true`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("unsupported option -Z");
  });

  it("runs as another user through runuser", () => {
    expect(bash(`"${sudo}" -u nobody id -un`).stdout).toBe("nobody\n");
  });
});

describe("installHookLibrary", () => {
  it("copies every library file, the sudo stand-in and dib-run-parts, keeping exec bits", () => {
    const dest = installHookLibrary(join(scratch, "install"));
    const names = readdirSync(dest).sort();
    expect(names).toEqual([...HOOK_LIBRARY_FILES, "dib-run-parts", "shims"].sort());
    expect(statSync(join(dest, "shims/sudo")).mode & 0o111).not.toBe(0);
    expect(statSync(join(dest, "dib-run-parts")).mode & 0o111).not.toBe(0);
    expect(statSync(join(dest, "outfilter")).mode & 0o111).not.toBe(0);
  });

  it("ships shellcheck-clean scripts", () => {
    const lib = hookLibraryDir();
    const files = [...HOOK_LIBRARY_FILES.map((f) => join(lib, f)), join(sudoShimDir(), "sudo")];
    const r = spawnSync("shellcheck", ["-x", ...files], { encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });
});
