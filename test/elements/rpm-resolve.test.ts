// The test package does not depend on @dib/elements; its source is imported directly.
import { argToElements, discoverElements, resolveElements } from "@dib/elements";
import { describe, expect, it } from "vitest";
import { elementsDir, stockElementNames } from "./element-harness.js";

/** The stock elements resolved the way `dib-cli build` resolves them (base added, vm's layout). */
async function resolve(names: string[]): Promise<string[]> {
  const catalog = await discoverElements({ elementsPath: elementsDir });
  const requested = argToElements(names, { arch: "amd64", skipBase: false });
  return resolveElements(requested, catalog).elements.map((e) => e.name);
}

const blockDevices = stockElementNames().filter((n) => n.startsWith("block-device-"));
const rpmImages = [
  ["centos-minimal"],
  ["centos"],
  ["fedora-container"],
  ["fedora-containerfile"],
  ["rocky-container"],
  ["almalinux-container"],
];

describe("the rpm family's operating-system elements resolve", () => {
  it("finds the block-device elements to try", () => {
    expect(blockDevices).toEqual(
      expect.arrayContaining(["block-device-efi", "block-device-gpt", "block-device-mbr"]),
    );
  });

  for (const [os] of rpmImages) {
    for (const layout of blockDevices) {
      it(`vm ${os} ${layout}`, async () => {
        const names = await resolve(["vm", os as string, layout]);
        expect(names).toEqual(
          expect.arrayContaining([
            "base",
            "bootloader",
            "redhat-common",
            "rpm-distro",
            "yum",
            layout,
          ]),
        );
        // Exactly one operating system and one block-device layout.
        expect(names.filter((n) => n.startsWith("block-device-"))).toEqual([layout]);
        expect(names.filter((n) => ["debian-minimal", "debootstrap", "dpkg"].includes(n))).toEqual(
          [],
        );
      });
    }
  }

  it("fedora-containerfile is fedora-container under DIB's documented name", async () => {
    const alias = await resolve(["vm", "fedora-containerfile"]);
    const real = await resolve(["vm", "fedora-container"]);
    expect(alias.filter((n) => n !== "fedora-containerfile")).toEqual(real);
    expect(real).toContain("containerfile");
  });

  it("centos-minimal brings yum-minimal and its family elements", async () => {
    const names = await resolve(["vm", "centos-minimal"]);
    expect(names).toEqual(
      expect.arrayContaining([
        "centos-minimal",
        "yum-minimal",
        "selinux-fixfiles-restore",
        "sysprep",
      ]),
    );
  });
});

describe("the Red Hat-only elements resolve with debian-minimal too", () => {
  it("selinux-permissive, epel and dracut-regenerate", async () => {
    const names = await resolve([
      "vm",
      "debian-minimal",
      "selinux-permissive",
      "epel",
      "dracut-regenerate",
    ]);
    expect(names).toEqual(
      expect.arrayContaining(["debian-minimal", "selinux-permissive", "epel", "dracut-regenerate"]),
    );
    expect(names).not.toContain("yum");
  });
});
