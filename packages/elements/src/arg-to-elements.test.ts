import { describe, expect, it } from "vitest";
import { argToElements } from "./arg-to-elements.js";

describe("argToElements", () => {
  it("adds base first and the default block-device layout for vm", () => {
    expect(argToElements(["debian-minimal", "vm"], { arch: "amd64" })).toEqual([
      "base",
      "debian-minimal",
      "vm",
      "block-device-mbr",
    ]);
  });

  it.each(["arm64", "aarch64"])("picks block-device-efi for vm on %s", (arch) => {
    expect(argToElements(["vm"], { arch, skipBase: true })).toEqual(["vm", "block-device-efi"]);
  });

  it("keeps the user's block-device element", () => {
    expect(argToElements(["vm", "block-device-gpt"], { skipBase: true })).toEqual([
      "vm",
      "block-device-gpt",
    ]);
  });

  it("adds nothing without vm, and no base with skipBase", () => {
    expect(argToElements(["debian-minimal"], { skipBase: true })).toEqual(["debian-minimal"]);
  });

  it("puts the ramdisk element first", () => {
    expect(argToElements(["ubuntu"], { ramdiskElement: "ramdisk" })).toEqual([
      "ramdisk",
      "base",
      "ubuntu",
    ]);
  });
});
