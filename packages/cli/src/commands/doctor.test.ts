import { kvmStatusFrom } from "@dib/boot-test";
import { type ForeignArchSupport, Host } from "@dib/host";
import { describe, expect, it } from "vitest";
import { foreignArchChecks, runDoctor } from "./doctor.js";

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

describe("dib-cli doctor: foreign architectures", () => {
  const definition = {
    name: "qemu-aarch64",
    type: "M",
    offset: "",
    magic: "\\x7f",
    mask: "\\xff",
    interpreter: "/usr/libexec/qemu-binfmt/aarch64-binfmt-P",
    flags: "OPF",
    file: "/usr/lib/binfmt.d/qemu-aarch64.conf",
  };
  const build = (s: Partial<ForeignArchSupport>) =>
    foreignArchChecks(() => ({
      qemu: "aarch64",
      interpreterPresent: false,
      mounted: false,
      enabled: false,
      entries: [],
      ...s,
    })).find((c) => c.name === "build arm64 images");

  it.runIf(process.arch === "x64")("says what to install when the emulator is missing", () => {
    expect(build({})).toMatchObject({
      ok: false,
      detail: expect.stringContaining("apt-get install qemu-user-static"),
    });
  });

  it.runIf(process.arch === "x64")(
    "names the entry that runs arm64 programs, or that builds register one",
    () => {
      const entry = {
        name: "qemu-aarch64",
        enabled: true,
        interpreter: definition.interpreter,
        flags: "POF",
        offset: 0,
        magic: "7f",
        mask: "ff",
      };
      const registered = (e: typeof entry) =>
        build({
          definition,
          interpreterPresent: true,
          mounted: true,
          enabled: true,
          entries: [e],
          serving: e,
        })?.detail;
      expect(registered(entry)).toMatch(
        /^\/usr\/libexec\/qemu-binfmt\/aarch64-binfmt-P through binfmt_misc entry qemu-aarch64/,
      );
      // Another build's own entry is not the host's: it goes when that build ends.
      const buildsOwn = { ...entry, name: "dib-qemu-aarch64-4242" };
      expect(registered(buildsOwn)).toContain(
        "each build registers a binfmt_misc entry for it (the host has none of its own)",
      );
      expect(build({ definition, interpreterPresent: true })).toMatchObject({
        ok: true,
        detail: expect.stringContaining(
          "each build registers a binfmt_misc entry for it (binfmt_misc not mounted now)",
        ),
      });
      expect(
        build({ definition, interpreterPresent: true, mounted: true, enabled: false }),
      ).toMatchObject({
        ok: false,
        detail: expect.stringContaining("switched off"),
      });
    },
  );
});
