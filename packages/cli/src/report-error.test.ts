import { DibError } from "@dib/host";
import { describe, expect, it } from "vitest";
import { reportError } from "./report-error.js";

function printed(error: unknown, trace = false): { code: number; text: string } {
  let text = "";
  const code = reportError(error, trace, { write: (t: string) => (text += t) });
  return { code, text };
}

describe("reportError", () => {
  it("prints the builder step, element and script a failure happened in, before the hint", () => {
    const error = new DibError(
      "DIB_PHASE_SCRIPT_FAILED",
      "install.d/50-fail (element fail-in) failed with exit code 3",
      {
        hint: "run with break=after-error",
        details: {
          phase: "install",
          where: "chroot",
          exitCode: 3,
          outputTail: ["a", "b"],
          script: "50-fail",
          element: "fail-in",
          step: "install.d",
          buildDir: "/tmp/dib_build.x",
        },
      },
    );
    expect(printed(error)).toEqual({
      code: 1,
      text: [
        "error DIB_PHASE_SCRIPT_FAILED: install.d/50-fail (element fail-in) failed with exit code 3",
        "step: install.d",
        "element: fail-in",
        "script: 50-fail",
        "exit code: 3",
        "hint: run with break=after-error",
        "",
      ].join("\n"),
    });
  });

  it("prints the whole command of a failed step, quoted as a shell would need it", () => {
    const error = new DibError("DIB_COMMAND_FAILED", "mkfs.ext4 … failed with exit code 1", {
      hint: "its output ended with:\nno space",
      file: "/etc/dib/block-device.yaml",
      details: {
        argv: ["mkfs.ext4", "-L", "cloud rootfs", "/dev/loop0"],
        exitCode: 1,
        stderrTail: "no space",
        signal: undefined,
        step: "block-device-create",
      },
    });
    expect(printed(error).text).toBe(
      [
        "error DIB_COMMAND_FAILED: mkfs.ext4 … failed with exit code 1",
        "file: /etc/dib/block-device.yaml",
        "step: block-device-create",
        "command: mkfs.ext4 -L 'cloud rootfs' /dev/loop0",
        "exit code: 1",
        "hint: its output ended with:",
        "no space",
        "",
      ].join("\n"),
    );
  });

  it("names a phase that ran outside the builder, and what the failed cleanup left", () => {
    const error = new DibError("DIB_PHASE_ENVIRONMENT_FAILED", "environment.d/10-x stopped", {
      details: {
        phase: "root",
        environmentFile: "10-x",
        keptBuildDir: "/tmp/dib_build.k",
        cleanupError: "umount: target is busy",
      },
    });
    expect(printed(error).text).toBe(
      [
        "error DIB_PHASE_ENVIRONMENT_FAILED: environment.d/10-x stopped",
        "phase: root.d",
        "environment file: 10-x",
        "build directory kept: /tmp/dib_build.k",
        "cleanup failed too: umount: target is busy",
        "",
      ].join("\n"),
    );
  });

  it("prints an error without details as before: code, message and hint only", () => {
    const error = new DibError("DIB_TOOL_MISSING", "sgdisk is not installed", {
      hint: "apt-get install gdisk",
    });
    expect(printed(error).text).toBe(
      "error DIB_TOOL_MISSING: sgdisk is not installed\nhint: apt-get install gdisk\n",
    );
  });

  it("reports anything else as an internal error with a hint to trace it", () => {
    expect(printed(new TypeError("x is undefined"))).toEqual({
      code: 1,
      text: "error DIB_INTERNAL: x is undefined\nhint: run again with -x for the stack trace, and report it as a bug\n",
    });
  });
});
