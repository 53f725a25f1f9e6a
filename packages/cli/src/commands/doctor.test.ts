import { kvmStatusFrom } from "@dib/boot-test";
import { Host } from "@dib/host";
import { describe, expect, it } from "vitest";
import { runDoctor } from "./doctor.js";

const host = new Host({ log: () => {} });

async function kvmCheck(outcome: Parameters<typeof kvmStatusFrom>[0]) {
  const checks = await runDoctor(host, { kvm: async () => kvmStatusFrom(outcome) });
  return checks.find((c) => c.name === "kvm");
}

describe("dib-cli doctor: kvm", () => {
  it("reports what the probe guest did when KVM booted Linux", async () => {
    expect(
      await kvmCheck({ kind: "userspace", seconds: 1.2, kernel: "/boot/vmlinuz-6.1.0-28-amd64" }),
    ).toEqual({
      name: "kvm",
      ok: true,
      required: false,
      detail: "a KVM guest booted Linux (/boot/vmlinuz-6.1.0-28-amd64) to userspace in 1.2 s",
    });
  });

  it("says KVM is unusable, why, and that boot tests use TCG, where KVM hangs Linux", async () => {
    expect(
      await kvmCheck({ kind: "stalled", seconds: 20, kernel: "linux-image-6.1.0-28-cloud-amd64" }),
    ).toEqual({
      name: "kvm",
      ok: false,
      required: false,
      detail:
        "unusable: the KVM guest's kernel (linux-image-6.1.0-28-cloud-amd64) printed nothing in 20 s; boot tests use TCG (slower)",
    });
    expect((await kvmCheck({ kind: "no-kvm" }))?.detail).toBe(
      "unusable: no /dev/kvm; boot tests use TCG (slower)",
    );
  });
});
