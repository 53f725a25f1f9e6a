import type { BootTestResult } from "@dib/boot-test";
import { isDibError } from "@dib/host";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import {
  describeProgress,
  formatBootResult,
  guestArch,
  parseLogin,
  parsePositive,
  registerBootTestCommand,
} from "./boot-test.js";

const passed: BootTestResult = {
  ok: true,
  accel: "tcg",
  firmware: "bios",
  arch: "amd64",
  secondsToPrompt: 41.2,
  commandResults: [{ command: "uname -r", output: "6.1.0-28-amd64", exitCode: 0 }],
  consoleTail: ["debian login: "],
};

describe("dib-cli boot-test", () => {
  it("takes --arch in any of -a's spellings, and only what it can boot", () => {
    expect(guestArch("aarch64")).toBe("arm64");
    expect(guestArch("x86_64")).toBe("amd64");
    expect(() => guestArch("s390x")).toThrow(/boot-test boots amd64 and arm64 guests/);
    expect(() => guestArch("vax")).toThrow(expect.objectContaining({ code: "DIB_UNKNOWN_ARCH" }));
  });

  it("splits --login at the first colon, so a password may contain colons", () => {
    expect(parseLogin("devuser:se:cret")).toEqual({ user: "devuser", password: "se:cret" });
    expect(parseLogin("root:")).toEqual({ user: "root", password: "" });
  });

  it("refuses a --login without a user or a colon", () => {
    for (const bad of ["devuser", ":secret"]) {
      expect(() => parseLogin(bad)).toThrow(expect.objectContaining({ code: "DIB_BAD_ARGUMENT" }));
    }
  });

  it("refuses a timeout that is not a positive number", () => {
    expect(parsePositive("--timeout", "90")).toBe(90);
    try {
      parsePositive("--timeout", "soon");
      expect.unreachable();
    } catch (error) {
      expect(isDibError(error, "DIB_BAD_ARGUMENT")).toBe(true);
    }
  });

  it("prints the time to the prompt, each command with its output and status, and the verdict", () => {
    expect(formatBootResult(passed, "debian.qcow2")).toEqual([
      "debian.qcow2 reached the prompt after 41.2 s (BIOS, tcg)",
      "$ uname -r",
      "6.1.0-28-amd64",
      "[exit 0]",
      "boot-test passed: debian.qcow2",
    ]);
  });

  it("prints the error and the console tail when the guest did not get there", () => {
    const failed: BootTestResult = {
      ...passed,
      ok: false,
      firmware: "uefi",
      secondsToPrompt: null,
      commandResults: [],
      consoleTail: ["BdsDxe: failed to load Boot0001", "No bootable option or device was found."],
      failure: {
        code: "DIB_BOOT_TIMEOUT",
        message: "timed out waiting for the prompt /login:\\s*$/",
      },
    };
    expect(formatBootResult(failed, "debian.qcow2")).toEqual([
      "boot-test FAILED: debian.qcow2 (UEFI, tcg)",
      "error DIB_BOOT_TIMEOUT: timed out waiting for the prompt /login:\\s*$/",
      "last 2 console lines:",
      "  | BdsDxe: failed to load Boot0001",
      "  | No bootable option or device was found.",
    ]);
  });

  it("says on stderr when QEMU started, and that TCG is slow", () => {
    expect(
      describeProgress({
        kind: "started",
        accel: "tcg",
        firmware: "uefi",
        arch: "amd64",
        qemu: [],
      }),
    ).toBe("boot-test: QEMU started (UEFI, tcg: no usable KVM, this is slow)");
    expect(
      describeProgress({
        kind: "started",
        accel: "tcg",
        firmware: "uefi",
        arch: "arm64",
        qemu: [],
      }),
    ).toBe(
      "boot-test: QEMU started (arm64, UEFI, tcg: emulating another architecture, this is slow)",
    );
    expect(describeProgress({ kind: "prompt", secondsToPrompt: 12.5 })).toBe(
      "boot-test: prompt after 12.5 s",
    );
  });

  it("says when KVM made no progress and the guest was restarted under TCG", () => {
    const reason =
      'the KVM guest made no console progress for 60 s after "Loading initial ramdisk ..."';
    expect(describeProgress({ kind: "accel-fallback", from: "kvm", to: "tcg", reason })).toBe(
      `boot-test: ${reason}; restarting the guest under TCG`,
    );
    expect(
      formatBootResult({ ...passed, accelFallback: { from: "kvm", reason } }, "debian.qcow2"),
    ).toEqual([
      "debian.qcow2 reached the prompt after 41.2 s (BIOS, tcg after KVM made no progress)",
      `KVM was given up on (${reason}); the guest was restarted under TCG`,
      "$ uname -r",
      "6.1.0-28-amd64",
      "[exit 0]",
      "boot-test passed: debian.qcow2",
    ]);
  });

  it("registers the command with repeatable --run and the accel choices", () => {
    const program = new Command("dib-cli");
    registerBootTestCommand(program);
    const command = program.commands.find((c) => c.name() === "boot-test");
    expect(command).toBeDefined();
    command?.parseOptions(["--run", "uname -m", "--run", "id"]);
    expect(command?.opts().run).toEqual(["uname -m", "id"]);
    expect(command?.helpInformation()).not.toContain("(default: [])");
    const flags = command?.options.map((o) => o.long) ?? [];
    for (const f of [
      "--uefi",
      "--expect",
      "--login",
      "--run",
      "--timeout",
      "--memory",
      "--resize",
      "--accel",
      "--json",
    ]) {
      expect(flags).toContain(f);
    }
    const accel = command?.options.find((o) => o.long === "--accel");
    expect(accel?.argChoices).toEqual(["kvm", "tcg", "auto"]);
  });
});
