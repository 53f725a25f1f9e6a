import { describe, expect, it } from "vitest";
import { type ElementRelations, resolveElements } from "./resolve-elements.js";

function catalog(
  spec: Record<string, { deps?: string[]; provides?: string[] }>,
): Map<string, ElementRelations> {
  return new Map(
    Object.entries(spec).map(([name, s]) => [
      name,
      { name, deps: s.deps ?? [], provides: s.provides ?? [], dir: `/els/${name}` },
    ]),
  );
}

const stock = catalog({
  base: { deps: ["dib-init-system", "install-types", "pkg-map"] },
  "dib-init-system": {},
  "install-types": {},
  "pkg-map": {},
  "debian-minimal": { deps: ["debootstrap", "pkg-map"], provides: ["operating-system"] },
  "ubuntu-minimal": { deps: ["debootstrap"], provides: ["operating-system"] },
  debootstrap: { deps: ["pkg-map"] },
  vm: { deps: ["block-device", "bootloader"] },
  bootloader: {},
  "block-device-mbr": { provides: ["block-device"] },
  "block-device-efi": { provides: ["block-device"] },
  "block-device": { deps: ["never-pulled-in"] },
});

describe("resolveElements", () => {
  it("expands dependencies and returns the set sorted by name, whatever the argument order", () => {
    const a = resolveElements(["vm", "debian-minimal", "base", "block-device-mbr"], stock);
    const b = resolveElements(["block-device-mbr", "base", "debian-minimal", "vm"], stock);
    const names = a.elements.map((e) => e.name);
    expect(names).toEqual([
      "base",
      "block-device-mbr",
      "bootloader",
      "debian-minimal",
      "debootstrap",
      "dib-init-system",
      "install-types",
      "pkg-map",
      "vm",
    ]);
    expect(b.elements.map((e) => e.name)).toEqual(names);
    expect(a.provided).toEqual({
      "block-device": "block-device-mbr",
      "operating-system": "debian-minimal",
    });
    expect(a.requiredBy).toMatchObject({ bootloader: "vm", debootstrap: "debian-minimal" });
  });

  it("never expands a provided name as an element, even when an element of that name exists", () => {
    const result = resolveElements(["vm", "debian-minimal", "block-device-mbr"], stock);
    const names = result.elements.map((e) => e.name);
    expect(names).not.toContain("block-device");
    expect(names).not.toContain("never-pulled-in");
  });

  it("says which element needs a missing one and suggests close names", () => {
    const broken = catalog({
      ...Object.fromEntries([...stock].map(([n, e]) => [n, e])),
      app: { deps: ["debain-minimal"] },
    });
    let error: unknown;
    try {
      resolveElements(["app", "debian-minimal"], broken);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: "DIB_ELEMENT_NOT_FOUND",
      message: "Element 'debain-minimal' not found",
      file: "/els/app/element-deps",
      details: { element: "debain-minimal", requiredBy: "app", suggestions: ["debian-minimal"] },
    });
    expect((error as { hint: string }).hint).toContain("Did you mean 'debian-minimal'?");
    expect((error as { hint: string }).hint).toContain("'app' needs it (/els/app/element-deps).");
  });

  it("suggests the element a short name starts", () => {
    expect(() => resolveElements(["debian"], stock)).toThrow(
      expect.objectContaining({ hint: expect.stringContaining("'debian-minimal'") }),
    );
  });

  it("rejects two elements providing the same name with DIB's message", () => {
    expect(() =>
      resolveElements(["block-device-efi", "block-device-mbr", "debian-minimal"], stock),
    ).toThrow(
      expect.objectContaining({
        code: "DIB_ELEMENT_ALREADY_PROVIDED",
        message: "block-device: already provided by ['block-device-efi']",
        hint: "'block-device-efi' and 'block-device-mbr' both provide 'block-device'; use only one of them",
      }),
    );
  });

  it("rejects two operating systems", () => {
    expect(() => resolveElements(["debian-minimal", "ubuntu-minimal"], stock)).toThrow(
      expect.objectContaining({
        code: "DIB_ELEMENT_ALREADY_PROVIDED",
        message: "operating-system: already provided by ['debian-minimal']",
        hint: expect.stringContaining("both operating-system elements"),
      }),
    );
  });

  it("asks for an operating system and lists the elements that provide one", () => {
    expect(() => resolveElements(["vm", "block-device-mbr"], stock)).toThrow(
      expect.objectContaining({
        code: "DIB_NO_OPERATING_SYSTEM",
        message: "Please include an operating system element",
        hint: "add one of the elements that provide operating-system: debian-minimal, ubuntu-minimal",
      }),
    );
  });

  it("rejects asking for a name another requested element provides", () => {
    expect(() => resolveElements(["debian-minimal", "operating-system"], stock)).toThrow(
      expect.objectContaining({
        code: "DIB_ELEMENT_ALREADY_PROVIDED",
        message: expect.stringContaining(
          "operating-system : already provided by ['debian-minimal']",
        ),
      }),
    );
  });

  it.each(["../x", "a/b", "two words", ""])("rejects the element name %j", (name) => {
    expect(() => resolveElements([name], stock)).toThrow(
      expect.objectContaining({ code: "DIB_ELEMENT_NAME_INVALID" }),
    );
  });

  it("accepts self-dependencies, cycles and repeats", () => {
    const looped = catalog({
      a: { deps: ["a", "b"], provides: ["operating-system"] },
      b: { deps: ["a"] },
    });
    expect(resolveElements(["a", "a", "b"], looped).elements.map((e) => e.name)).toEqual([
      "a",
      "b",
    ]);
  });

  it("takes a catalog as discoverElements returns it", () => {
    const result = resolveElements(["debian-minimal"], { elements: stock });
    expect(result.requested).toEqual(["debian-minimal"]);
    expect(result.elements.map((e) => e.name)).toEqual([
      "debian-minimal",
      "debootstrap",
      "pkg-map",
    ]);
  });
});
