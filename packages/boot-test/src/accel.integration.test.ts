import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host } from "@dib/host";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forgetKvmProbe, type KvmStatus, kvmStatus, rememberKvmStatus } from "./accel.js";
import { type BootProgress, bootTest } from "./boot-test.js";
import {
  makeTinyGuest,
  TINY_PASSWORD,
  TINY_USER,
  type TinyGuest,
  tinyGuestCache,
} from "./tiny-guest.fixture.js";

/**
 * The KVM probe on this host, for real: its answer must agree with what a real boot of the
 * tiny guest under KVM does, `auto` must then boot, and a KVM guest that hangs must be
 * restarted under TCG. Hosts differ (KVM boots Linux; KVM runs firmware but hangs Linux; no
 * KVM at all): every assertion holds on each kind.
 */
describe.runIf(isRoot)(`choosing an accelerator that boots${rootOnlyReason}`, () => {
  const host = new Host({ log: () => {} });
  const login = { user: TINY_USER, password: TINY_PASSWORD };
  let workDir: string;
  // The fixture's cache: the probe reuses the Debian kernel the tiny guest is made from
  // (when /boot has none), and its answer file is only read by tests.
  const cacheDir = tinyGuestCache();
  let guest: TinyGuest;
  let hangsUnderKvm: TinyGuest;
  let probed: KvmStatus;
  let before: ReturnType<typeof hostSnapshot>;

  beforeAll(async () => {
    before = hostSnapshot();
    workDir = mkdtempSync(join(tmpdir(), "dib-accel-it-"));
    guest = await makeTinyGuest(host, join(workDir, "tiny"));
    mkdirSync(join(workDir, "hang"));
    hangsUnderKvm = await makeTinyGuest(host, join(workDir, "hang"), { hangUnderKvm: true });
    const started = Date.now();
    probed = await kvmStatus(host, undefined, { cacheDir, fresh: true });
    process.stdout.write(
      `KVM probe on this host (${((Date.now() - started) / 1000).toFixed(1)} s): ${probed.usable ? "usable" : "unusable"}: ${probed.reason}\n`,
    );
  }, 600_000);

  afterAll(() => {
    forgetKvmProbe();
    // The answers forced here must not outlive the test.
    rmSync(join(cacheDir, "kvm-probe.json"), { force: true });
    rmSync(workDir, { recursive: true, force: true });
    expectHostClean(before);
  });

  it("the probe says what it saw: Linux in userspace, or why not", () => {
    if (probed.usable)
      expect(probed.reason).toMatch(/^a KVM guest booted Linux \(.+\) to userspace in [\d.]+ s$/);
    else
      expect(probed.reason).toMatch(
        /no \/dev\/kvm|printed nothing|stopped after|ended before|could not run|not tried/,
      );
  });

  it("agrees with a real boot of the tiny guest under KVM", async () => {
    // Force KVM past the probe: this is the boot the probe's answer predicts.
    rememberKvmStatus({ usable: true, reason: "forced by the test" }, undefined, { cacheDir });
    const lines: string[] = [];
    const result = await bootTest({
      host,
      tmpDir: workDir,
      cacheDir,
      kernel: guest,
      accel: "kvm",
      login,
      commands: ["echo booted"],
      timeoutMs: 30_000,
      onConsoleLine: (l) => lines.push(l),
    });
    process.stdout.write(
      `tiny guest under KVM: ${result.ok ? `prompt after ${result.secondsToPrompt} s` : result.failure?.message}\n`,
    );
    expect(result.accel).toBe("kvm");
    expect(result.ok).toBe(probed.usable);
    if (!probed.usable) expect(lines).not.toContain("tiny guest: init running");
  }, 120_000);

  it("auto boots the tiny guest to a shell with the probe's choice, with no restart", async () => {
    forgetKvmProbe();
    rememberKvmStatus(probed, undefined, { cacheDir });
    const result = await bootTest({
      host,
      tmpDir: workDir,
      cacheDir,
      kernel: guest,
      login,
      commands: ["echo booted"],
      timeoutMs: 150_000,
    });
    expect(result.ok, result.consoleTail.join("\n")).toBe(true);
    expect(result.accel).toBe(probed.usable ? "kvm" : "tcg");
    expect(result.accelFallback).toBeUndefined();
    expect(result.commandResults[0]?.output).toBe("booted");
  }, 180_000);

  it("restarts a guest that makes no console progress under KVM once under TCG, says so, and remembers", async () => {
    // The probe said yes, the boot hangs: the guest is silent under KVM (and KVM itself hangs
    // Linux on some hosts), and boots normally under TCG.
    rememberKvmStatus({ usable: true, reason: "forced by the test" }, undefined, { cacheDir });
    const progress: BootProgress[] = [];
    const started = Date.now();
    const result = await bootTest({
      host,
      tmpDir: workDir,
      cacheDir,
      kernel: hangsUnderKvm,
      login,
      commands: ["echo booted"],
      timeoutMs: 150_000,
      kvmStallTimeoutMs: 10_000,
      onProgress: (e) => progress.push(e),
    });
    process.stdout.write(
      `watchdog: ${result.accelFallback?.reason}; TCG prompt after ${result.secondsToPrompt} s, ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`,
    );
    expect(result.ok, result.consoleTail.join("\n")).toBe(true);
    expect(result.accel).toBe("tcg");
    expect(result.accelFallback?.from).toBe("kvm");
    expect(result.accelFallback?.reason).toMatch(
      /^the KVM guest (printed nothing in 1\d s|made no console progress for 1\d s)/,
    );
    expect(progress.map((e) => (e.kind === "started" ? `started ${e.accel}` : e.kind))).toEqual([
      "started kvm",
      "accel-fallback",
      "started tcg",
      "prompt",
      "logged-in",
      "command",
    ]);
    expect(result.commandResults[0]?.output).toBe("booted");
    // Later boots (this process and others, through the cache file) go straight to TCG.
    forgetKvmProbe();
    expect(await kvmStatus(host, undefined, { cacheDir })).toMatchObject({
      usable: false,
      reason: result.accelFallback?.reason,
      cached: true,
    });
  }, 240_000);
});
