import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hostKernel } from "./guest-kernel.js";

let boot: string;
beforeEach(() => {
  boot = mkdtempSync(join(tmpdir(), "dib-guest-kernel-test-"));
});
afterEach(() => rmSync(boot, { recursive: true, force: true }));

describe("the host's own kernel for a probe guest", () => {
  it("takes the running kernel's vmlinuz when /boot has it", () => {
    writeFileSync(join(boot, "vmlinuz-1.0.0-1-amd64"), "old");
    writeFileSync(join(boot, `vmlinuz-${release()}`), "running");
    writeFileSync(join(boot, "vmlinuz-99.0.0-1-amd64"), "newer, not running");
    expect(hostKernel(boot)?.vmlinuz).toBe(join(boot, `vmlinuz-${release()}`));
  });

  it("else the newest by version, not by string order", () => {
    writeFileSync(join(boot, "vmlinuz-6.1.0-9-amd64"), "");
    writeFileSync(join(boot, "vmlinuz-6.1.0-28-amd64"), "");
    writeFileSync(join(boot, "config-6.1.0-30-amd64"), "");
    expect(hostKernel(boot)).toEqual({
      vmlinuz: join(boot, "vmlinuz-6.1.0-28-amd64"),
      origin: join(boot, "vmlinuz-6.1.0-28-amd64"),
    });
  });

  it("has none when /boot is empty or missing (the probe then fetches Debian's kernel)", () => {
    expect(hostKernel(boot)).toBeUndefined();
    expect(hostKernel(join(boot, "missing"))).toBeUndefined();
  });

  it.runIf(process.getuid?.() !== 0)(
    "skips a vmlinuz it cannot read (Ubuntu's are root-only)",
    () => {
      writeFileSync(join(boot, "vmlinuz-6.1.0-28-amd64"), "");
      writeFileSync(join(boot, "vmlinuz-6.1.0-9-amd64"), "");
      chmodSync(join(boot, "vmlinuz-6.1.0-28-amd64"), 0);
      expect(hostKernel(boot)?.vmlinuz).toBe(join(boot, "vmlinuz-6.1.0-9-amd64"));
    },
  );
});
