import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host } from "@dib/host";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootTest } from "./boot-test.js";
import {
  DISK_BYTES,
  DISK_MAGIC,
  makeTinyGuest,
  TINY_PASSWORD,
  TINY_USER,
  type TinyGuest,
} from "./tiny-guest.fixture.js";

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Scratch directories bootTest left in `dir`: each boot below makes its own there. */
function leftoverWorkDirs(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith("dib-boot-"));
}

describe.runIf(isRoot)(`bootTest on a real QEMU guest${rootOnlyReason}`, () => {
  const host = new Host({ log: () => {} });
  const login = { user: TINY_USER, password: TINY_PASSWORD };
  let workDir: string;
  let guest: TinyGuest;
  let before: ReturnType<typeof hostSnapshot>;

  beforeAll(async () => {
    before = hostSnapshot();
    workDir = mkdtempSync(join(tmpdir(), "dib-boot-test-it-"));
    guest = await makeTinyGuest(host, workDir);
  }, 600_000);

  afterAll(() => {
    const left = leftoverWorkDirs(workDir);
    rmSync(workDir, { recursive: true, force: true });
    expectHostClean(before);
    expect(left).toEqual([]);
  });

  it("boots with BIOS, logs in on the serial console and runs commands on a grown disk, leaving the image untouched", async () => {
    const hashBefore = sha256(guest.disk);
    const lines: string[] = [];
    const progress: string[] = [];
    const result = await bootTest({
      host,
      tmpDir: workDir,
      image: guest.disk,
      kernel: guest,
      login,
      resize: "+64M",
      commands: [
        "echo hello",
        `head -c ${DISK_MAGIC.length} /dev/vda`,
        "cat /sys/block/vda/size",
        // Reads its stdin: it must get nothing rather than what is typed after it.
        'read -r line; echo "read:$line"',
        "false",
      ],
      timeoutMs: 120_000,
      onConsoleLine: (l) => lines.push(l),
      onProgress: (event) => progress.push(event.kind),
    });
    process.stdout.write(`BIOS boot: prompt after ${result.secondsToPrompt} s (${result.accel})\n`);
    if (!existsSync("/dev/kvm")) expect(result.accel).toBe("tcg");
    expect(result.secondsToPrompt).toBeGreaterThan(0);
    expect(result.commandResults).toEqual([
      { command: "echo hello", output: "hello", exitCode: 0 },
      { command: `head -c ${DISK_MAGIC.length} /dev/vda`, output: DISK_MAGIC, exitCode: 0 },
      { command: "cat /sys/block/vda/size", output: String((DISK_BYTES * 2) / 512), exitCode: 0 },
      { command: 'read -r line; echo "read:$line"', output: "read:", exitCode: 0 },
      { command: "false", output: "", exitCode: 1 },
    ]);
    // A command that fails makes the test fail, but every command still ran.
    expect(result.ok).toBe(false);
    expect(result.failure?.code).toBe("DIB_BOOT_COMMAND_FAILED");
    expect(lines).toContain("tiny guest: init running");
    expect(progress).toEqual([
      "started",
      "prompt",
      "logged-in",
      ...result.commandResults.map(() => "command"),
    ]);
    expect(sha256(guest.disk)).toBe(hashBefore);
    expect(statSync(guest.disk).size).toBe(DISK_BYTES);
  }, 180_000);

  it("boots through OVMF with --uefi", async () => {
    const result = await bootTest({
      host,
      tmpDir: workDir,
      image: guest.disk,
      kernel: guest,
      uefi: true,
      login,
      commands: ["test -d /sys/firmware/efi && echo efi"],
      timeoutMs: 150_000,
    });
    process.stdout.write(`UEFI boot: prompt after ${result.secondsToPrompt} s (${result.accel})\n`);
    expect(result.firmware).toBe("uefi");
    expect(result.commandResults).toEqual([
      { command: "test -d /sys/firmware/efi && echo efi", output: "efi", exitCode: 0 },
    ]);
    expect(result.ok).toBe(true);
  }, 180_000);

  it("fails with the console tail when the password is wrong", async () => {
    const result = await bootTest({
      host,
      tmpDir: workDir,
      kernel: guest,
      login: { user: TINY_USER, password: "wrong" },
      commands: ["true"],
      timeoutMs: 120_000,
    });
    expect(result.ok).toBe(false);
    expect(result.failure?.code).toBe("DIB_BOOT_LOGIN_FAILED");
    expect(result.consoleTail.join("\n")).toContain("Login incorrect");
    expect(result.consoleTail.length).toBeLessThanOrEqual(40);
  }, 180_000);

  it("times out when the expected text never appears, and reports what the console showed", async () => {
    const result = await bootTest({
      host,
      tmpDir: workDir,
      kernel: guest,
      expect: "this never appears",
      timeoutMs: 25_000,
    });
    expect(result.ok).toBe(false);
    expect(result.secondsToPrompt).toBeNull();
    expect(result.failure?.code).toBe("DIB_BOOT_TIMEOUT");
    expect(result.consoleTail.length).toBeGreaterThan(0);
  }, 60_000);

  it("reports QEMU's own error when it cannot start the guest", async () => {
    const result = await bootTest({
      host,
      tmpDir: workDir,
      kernel: { kernel: join(workDir, "no-such-kernel") },
      timeoutMs: 30_000,
    });
    expect(result.ok).toBe(false);
    expect(["DIB_BOOT_QEMU_FAILED", "DIB_BOOT_GUEST_EXITED"]).toContain(result.failure?.code);
    expect(result.failure?.message).toContain("no-such-kernel");
  }, 60_000);
});
