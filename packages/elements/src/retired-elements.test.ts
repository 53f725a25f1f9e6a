import { describe, expect, it } from "vitest";
import { type ElementRelations, resolveElements } from "./resolve-elements.js";
import { retiredElement, retiredElementNames } from "./retired-elements.js";

function catalog(spec: Record<string, string[]>): Map<string, ElementRelations> {
  return new Map(
    Object.entries(spec).map(([name, deps]) => [
      name,
      {
        name,
        deps,
        provides: name === "debian-minimal" ? ["operating-system"] : [],
        dir: `/els/${name}`,
      },
    ]),
  );
}

const stock = catalog({ "debian-minimal": [], modprobe: [], "octavia-amphora": ["dib-python"] });

function resolveError(names: string[], all = stock) {
  try {
    resolveElements(names, all);
  } catch (error) {
    return error as { code: string; message: string; hint?: string; file?: string };
  }
  throw new Error(`resolving ${names.join(" ")} did not fail`);
}

describe("retired elements", () => {
  const named = [
    "dib-python",
    "fedora-minimal",
    "centos7",
    "rhel7",
    "deploy-baremetal",
    "deploy-kexec",
    "deploy-targetcli",
    "deploy-tgtadm",
    "dracut-network",
    "ubuntu-systemd-container",
    "modprobe-blacklist",
    "debian-systemd",
    "debian-upstart",
    "pip-and-virtualenv",
  ];

  it.each(named)("%s fails with DIB_ELEMENT_RETIRED, saying why and what to use", (name) => {
    const error = resolveError(["debian-minimal", name]);
    expect(error.code).toBe("DIB_ELEMENT_RETIRED");
    expect(error.message).toMatch(new RegExp(`^Element '${name}' was retired: .{20,}`));
    expect(error.hint).toBe(
      `${retiredElement(name)?.instead.replace(/^./, (c) => c.toUpperCase())}.`,
    );
  });

  it("names the replacement element where there is one", () => {
    expect(resolveError(["modprobe-blacklist"]).hint).toMatch(/^Use modprobe /);
    expect(resolveError(["debian-upstart"]).hint).toContain("debian-minimal");
    expect(resolveError(["pip-and-virtualenv"]).hint).toContain("ensure-venv");
    expect(resolveError(["dracut-network"]).hint).toContain("dracut-regenerate");
  });

  it("points at the element-deps that still names a retired element", () => {
    const error = resolveError(["debian-minimal", "octavia-amphora"]);
    expect(error.code).toBe("DIB_ELEMENT_RETIRED");
    expect(error.hint).toContain(
      "'octavia-amphora' still names it (/els/octavia-amphora/element-deps)",
    );
    expect(error.file).toBe("/els/octavia-amphora/element-deps");
  });

  it("matches deploy-* by prefix, but an element that exists always wins", () => {
    expect(resolveError(["deploy-anything"]).code).toBe("DIB_ELEMENT_RETIRED");
    const own = catalog({ "debian-minimal": [], "deploy-anything": [], "dib-python": [] });
    const names = resolveElements(
      ["debian-minimal", "deploy-anything", "dib-python"],
      own,
    ).elements.map((e) => e.name);
    expect(names).toEqual(["debian-minimal", "deploy-anything", "dib-python"]);
  });

  it("leaves names DIB never retired to the usual not-found error", () => {
    expect(resolveError(["debian-minimall"]).code).toBe("DIB_ELEMENT_NOT_FOUND");
    expect(retiredElementNames()).toEqual(expect.arrayContaining([...named, "deploy-*"]));
  });
});
