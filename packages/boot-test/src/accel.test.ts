import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, isDibError } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { forgetKvmProbe, kvmStatus, kvmWorks, resolveAccel } from "./accel.js";

// Stand-ins for qemu-system-x86_64: each records that it ran, then behaves like QEMU on a
// host where KVM works, where the device node is missing, or where KVM hangs the guest.
const WORKS = `echo "SeaBIOS (version 1.16.2-debian-1.16.2-1)"; echo "Found QEMU fw_cfg"; exec sleep 30`;
const NO_KVM = `echo "Could not access KVM kernel module: No such file or directory" >&2; exit 1`;

let dir: string;
const host = new Host({ log: () => {} });

function fakeQemu(body: string): string {
  const path = join(dir, "qemu");
  writeFileSync(path, `#!/bin/sh\necho ran >> "${dir}/runs"\n${body}\n`, { mode: 0o755 });
  return path;
}

const runs = () => readFileSync(join(dir, "runs"), "utf8").trim().split("\n").length;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dib-accel-test-"));
  forgetKvmProbe();
});
afterEach(() => {
  forgetKvmProbe();
  rmSync(dir, { recursive: true, force: true });
});

describe("KVM detection", () => {
  it("takes KVM when a probe guest's firmware gets going, and stops the probe guest", async () => {
    const started = Date.now();
    expect(await resolveAccel("auto", host, fakeQemu(WORKS))).toBe("kvm");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("falls back to TCG when QEMU cannot start a KVM guest, and says why", async () => {
    const qemu = fakeQemu(NO_KVM);
    expect(await resolveAccel("auto", host, qemu)).toBe("tcg");
    expect(await kvmStatus(host, qemu)).toEqual({
      usable: false,
      reason: "Could not access KVM kernel module: No such file or directory",
    });
  });

  it("runs the probe once per process and keeps the answer", async () => {
    const qemu = fakeQemu(NO_KVM);
    await kvmWorks(host, qemu);
    await kvmWorks(host, qemu);
    await resolveAccel("auto", host, qemu);
    expect(runs()).toBe(1);
  });

  it("refuses an explicit kvm request that cannot work, with a hint", async () => {
    try {
      await resolveAccel("kvm", host, fakeQemu(NO_KVM));
      expect.unreachable();
    } catch (error) {
      expect(isDibError(error, "DIB_KVM_UNAVAILABLE")).toBe(true);
    }
  });

  it("does not probe at all for an explicit tcg", async () => {
    const qemu = fakeQemu(WORKS);
    expect(await resolveAccel("tcg", host, qemu)).toBe("tcg");
    expect(() => readFileSync(join(dir, "runs"))).toThrow();
  });
});
