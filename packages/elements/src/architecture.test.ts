import { describe, expect, it } from "vitest";
import { architecture, debianArchName, findArchitecture, runsNatively } from "./architecture.js";

describe("architecture names", () => {
  it("takes every spelling DIB's -a accepts to Debian's name", () => {
    for (const [given, name] of [
      ["amd64", "amd64"],
      ["x86_64", "amd64"],
      ["arm64", "arm64"],
      ["aarch64", "arm64"],
      ["armhf", "armhf"],
      ["ppc64el", "ppc64el"],
      ["ppc64le", "ppc64el"],
      ["ppc64", "ppc64"],
      ["powerpc", "powerpc"],
      ["s390x", "s390x"],
    ] as const) {
      expect(architecture(given).name, given).toBe(name);
    }
  });

  it("knows the emulator, uname and rpm names of arm64", () => {
    expect(architecture("aarch64")).toMatchObject({
      qemu: "aarch64",
      machine: "aarch64",
      rpm: "aarch64",
    });
    expect(architecture("armv7l")).toMatchObject({ name: "armhf", qemu: "arm", rpm: "armv7hl" });
  });

  it("refuses an unknown name, listing the known ones", () => {
    expect(() => architecture("sparc64")).toThrow(/sparc64: not an architecture dib knows/);
    try {
      architecture("arm");
    } catch (error) {
      expect((error as { code: string; hint: string }).code).toBe("DIB_UNKNOWN_ARCH");
      expect((error as { hint: string }).hint).toContain("aarch64");
    }
  });

  it("returns names it does not know unchanged", () => {
    expect(debianArchName("mips64el")).toBe("mips64el");
    expect(findArchitecture(" arm64")).toBeUndefined();
  });

  it("knows which architectures run without an emulator", () => {
    expect(runsNatively("amd64", "x86_64")).toBe(true);
    expect(runsNatively("amd64", "i386")).toBe(true);
    expect(runsNatively("amd64", "arm64")).toBe(false);
    expect(runsNatively("arm64", "amd64")).toBe(false);
    expect(runsNatively("aarch64", "arm64")).toBe(true);
  });
});
