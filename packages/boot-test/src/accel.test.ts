import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, isDibError } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  forgetKvmProbe,
  KVM_STATUS_TTL_MS,
  kvmStatus,
  kvmStatusFrom,
  rememberKvmStatus,
  resolveAccel,
} from "./accel.js";
import { probeKvm } from "./kvm-probe.js";
import { PROBE_MARKER } from "./probe-initramfs.js";

// Stand-ins for qemu-system-x86_64, for the cases this host cannot show for real (the
// integration test boots the real probe): each records its arguments, then behaves like
// QEMU where KVM boots Linux, where KVM runs the firmware but hangs the kernel, where the
// kernel panics, and where QEMU cannot open KVM at all.
const BOOTS = `echo "SeaBIOS (version 1.16.2-debian-1.16.2-1)"; echo "[    0.000000] Linux version 6.1.0"; echo "${PROBE_MARKER}"; exit 0`;
const FIRMWARE_ONLY = `echo "SeaBIOS (version 1.16.2-debian-1.16.2-1)"; echo "Booting from ROM..."; exec sleep 30`;
const PANICS = `echo "[    0.9] Kernel panic - not syncing: Attempted to kill init!"; exit 0`;
const NO_KVM = `echo "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]" >&2; echo "Could not access KVM kernel module: Permission denied" >&2; echo "qemu-system-x86_64: failed to initialize kvm: Permission denied" >&2; exit 1`;

let dir: string;
let cacheDir: string;
const host = new Host({ log: () => {} });
const kernel = { vmlinuz: "/boot/vmlinuz-test", origin: "/boot/vmlinuz-test" };

function fakeQemu(body: string, name = "qemu"): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "$*" >> "${dir}/runs"\n${body}\n`, { mode: 0o755 });
  return path;
}

const runs = (): string[] => {
  try {
    return readFileSync(join(dir, "runs"), "utf8").trim().split("\n");
  } catch {
    return [];
  }
};

/** Options for the probe that need no /dev/kvm, no kernel download and little time. */
const probe = (extra: { timeoutMs?: number; fresh?: boolean } = {}) => ({
  cacheDir,
  kernel,
  kvmDevice: "/dev/null",
  timeoutMs: 3000,
  ...extra,
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dib-accel-test-"));
  cacheDir = join(dir, "cache");
  forgetKvmProbe();
});
afterEach(() => {
  forgetKvmProbe();
  rmSync(dir, { recursive: true, force: true });
});

describe("the decision, from what the probe guest did", () => {
  it("takes KVM only when Linux reached userspace", () => {
    const ok = kvmStatusFrom({ kind: "userspace", seconds: 1.2, kernel: "/boot/vmlinuz-6.1" });
    expect(ok.usable).toBe(true);
    expect(ok.reason).toBe("a KVM guest booted Linux (/boot/vmlinuz-6.1) to userspace in 1.2 s");
  });

  it("refuses a kernel that printed nothing, or stopped before userspace, and says where", () => {
    expect(kvmStatusFrom({ kind: "stalled", seconds: 20, kernel: "k" })).toMatchObject({
      usable: false,
      reason: "the KVM guest's kernel (k) printed nothing in 20 s",
    });
    expect(
      kvmStatusFrom({ kind: "stalled", seconds: 20, kernel: "k", lastLine: "Probing EDD... ok" }),
    ).toMatchObject({
      usable: false,
      reason: `the KVM guest's kernel (k) stopped after "Probing EDD... ok" and reached no userspace in 20 s`,
    });
  });

  it("refuses QEMU's own failure, a panic, no /dev/kvm, and a probe that could not boot Linux", () => {
    expect(
      kvmStatusFrom({ kind: "exited", kernel: "k", qemuError: "failed to initialize kvm" }),
    ).toMatchObject({
      usable: false,
      reason: "QEMU could not run a KVM guest: failed to initialize kvm",
    });
    expect(kvmStatusFrom({ kind: "exited", kernel: "k", lastLine: "Kernel panic" }).usable).toBe(
      false,
    );
    expect(kvmStatusFrom({ kind: "no-kvm" })).toMatchObject({
      usable: false,
      reason: "no /dev/kvm",
    });
    // Firmware running proves nothing: without a kernel to boot, KVM is not trusted.
    const untried = kvmStatusFrom({ kind: "no-probe-guest", detail: "apt knows no kernel" });
    expect(untried.usable).toBe(false);
    expect(untried.reason).toContain("apt knows no kernel");
  });
});

describe("the probe guest under a stand-in QEMU", () => {
  it("reports userspace when the marker appears, booting the kernel and the probe initramfs under KVM", async () => {
    const outcome = await probeKvm(host, { ...probe(), qemu: fakeQemu(BOOTS) });
    expect(outcome).toMatchObject({ kind: "userspace", kernel: "/boot/vmlinuz-test" });
    const argv = runs()[0] ?? "";
    expect(argv).toContain("-accel kvm");
    expect(argv).toContain("-kernel /boot/vmlinuz-test");
    expect(argv).toContain(`-initrd ${join(cacheDir, "kvm-probe-initramfs.cpio")}`);
  });

  it("does not take firmware output for a boot: stalled at the time limit, and the guest is stopped", async () => {
    const started = Date.now();
    const outcome = await probeKvm(host, {
      ...probe({ timeoutMs: 1500 }),
      qemu: fakeQemu(FIRMWARE_ONLY),
    });
    expect(outcome).toMatchObject({ kind: "stalled", lastLine: "Booting from ROM..." });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it("reports QEMU's error, not its warnings, when it cannot run a KVM guest", async () => {
    const outcome = await probeKvm(host, { ...probe(), qemu: fakeQemu(NO_KVM) });
    expect(outcome).toEqual({
      kind: "exited",
      kernel: "/boot/vmlinuz-test",
      qemuError: "qemu-system-x86_64: failed to initialize kvm: Permission denied",
    });
  });

  it("reports a kernel that ended before userspace", async () => {
    const outcome = await probeKvm(host, { ...probe(), qemu: fakeQemu(PANICS) });
    expect(outcome).toMatchObject({
      kind: "exited",
      lastLine: expect.stringContaining("Kernel panic"),
    });
  });

  it("does not start QEMU without /dev/kvm", async () => {
    const outcome = await probeKvm(host, {
      ...probe(),
      kvmDevice: join(dir, "no-kvm"),
      qemu: fakeQemu(BOOTS),
    });
    expect(outcome).toEqual({ kind: "no-kvm" });
    expect(runs()).toEqual([]);
  });
});

describe("choosing the accelerator", () => {
  it("auto takes TCG where KVM runs the firmware but not Linux", async () => {
    expect(
      await resolveAccel("auto", host, fakeQemu(FIRMWARE_ONLY), probe({ timeoutMs: 1000 })),
    ).toBe("tcg");
  });

  it("auto takes KVM where the probe guest reached userspace", async () => {
    expect(await resolveAccel("auto", host, fakeQemu(BOOTS), probe())).toBe("kvm");
  });

  it("refuses an explicit kvm request that cannot work, with a hint", async () => {
    try {
      await resolveAccel("kvm", host, fakeQemu(NO_KVM), probe());
      expect.unreachable();
    } catch (error) {
      expect(isDibError(error, "DIB_KVM_UNAVAILABLE")).toBe(true);
      expect((error as Error).message).toContain("failed to initialize kvm");
    }
  });

  it("does not probe at all for an explicit tcg", async () => {
    expect(await resolveAccel("tcg", host, fakeQemu(BOOTS), probe())).toBe("tcg");
    expect(runs()).toEqual([]);
  });
});

describe("keeping the answer", () => {
  it("probes once per process", async () => {
    const qemu = fakeQemu(NO_KVM);
    await kvmStatus(host, qemu, probe());
    await kvmStatus(host, qemu, probe());
    await resolveAccel("auto", host, qemu, probe());
    expect(runs()).toHaveLength(1);
  });

  it("lets a later process reuse the answer from the cache file, and says so", async () => {
    const qemu = fakeQemu(BOOTS);
    const first = await kvmStatus(host, qemu, probe());
    forgetKvmProbe(); // as a new process would start
    const second = await kvmStatus(host, qemu, probe());
    expect(runs()).toHaveLength(1);
    expect(second).toEqual({ ...first, cached: true });
  });

  it("probes again when asked for a fresh answer (doctor), for another QEMU, or once the answer is old", async () => {
    const qemu = fakeQemu(BOOTS);
    await kvmStatus(host, qemu, probe());
    await kvmStatus(host, qemu, probe({ fresh: true }));
    expect(runs()).toHaveLength(2);

    forgetKvmProbe();
    await kvmStatus(host, fakeQemu(BOOTS, "other-qemu"), probe());
    expect(runs()).toHaveLength(3);

    const file = join(cacheDir, "kvm-probe.json");
    const saved = JSON.parse(readFileSync(file, "utf8"));
    saved.status.checkedAt = Date.now() - KVM_STATUS_TTL_MS - 1000;
    writeFileSync(file, JSON.stringify(saved));
    forgetKvmProbe();
    await kvmStatus(host, fakeQemu(BOOTS, "other-qemu"), probe());
    expect(runs()).toHaveLength(4);
  });

  it("remembers a verdict boot-test reached (KVM hung a real boot) for this process and later ones", async () => {
    const qemu = fakeQemu(BOOTS);
    expect((await kvmStatus(host, qemu, probe())).usable).toBe(true);
    rememberKvmStatus({ usable: false, reason: "the KVM guest printed nothing in 60 s" }, qemu, {
      cacheDir,
    });
    expect(await resolveAccel("auto", host, qemu, probe())).toBe("tcg");
    forgetKvmProbe();
    expect(await kvmStatus(host, qemu, probe())).toMatchObject({
      usable: false,
      reason: "the KVM guest printed nothing in 60 s",
      cached: true,
    });
    expect(runs()).toHaveLength(1);
  });
});
