import { describe, expect, it } from "vitest";
import { distroFamily, mapPackageNames, parsePkgMap, pkgMapFor } from "./pkg-map.js";

const map = parsePkgMap(
  JSON.stringify({
    default: { iscsi: "open-iscsi", tools: "a b", gone: "x", python: "python3" },
    family: { redhat: { iscsi: "iscsi-initiator-utils" }, debian: { gone: "" } },
    distro: { centos: { tools: "c" }, ubuntu: { python: "python3-minimal" } },
    release: {
      centos: { "9": { tools: "nine" }, "9-stream": { python: "py39" } },
      ubuntu: { noble: { python: "py312" } },
    },
  }),
  "/els/e/pkg-map",
);

describe("pkg-map", () => {
  it("knows each distribution's family", () => {
    expect(distroFamily("ubuntu")).toBe("debian");
    expect(distroFamily("rocky")).toBe("redhat");
    expect(distroFamily("opensuse")).toBe("suse");
    expect(distroFamily("plan9")).toBeUndefined();
  });

  it("layers default, family, distro and release, the most specific winning", () => {
    expect(pkgMapFor(map, { distro: "ubuntu", release: "noble" })).toEqual({
      iscsi: "open-iscsi",
      tools: "a b",
      gone: "",
      python: "py312",
    });
    expect(pkgMapFor(map, { distro: "ubuntu", release: "jammy" }).python).toBe("python3-minimal");
    expect(pkgMapFor(map, { distro: "fedora" }).iscsi).toBe("iscsi-initiator-utils");
  });

  it("applies release N to N-stream, below N-stream's own entries (DIB knew only 8-stream)", () => {
    const table = pkgMapFor(map, { distro: "centos", release: "9-stream" });
    expect(table.tools).toBe("nine");
    expect(table.python).toBe("py39");
  });

  it("maps names to packages: several, none, or an error for an unknown name", () => {
    const target = { distro: "debian", release: "bookworm", element: "e" };
    expect(mapPackageNames(map, ["tools", "gone", "iscsi"], target)).toEqual([
      "a",
      "b",
      "open-iscsi",
    ]);
    expect(mapPackageNames(map, ["mystery"], { ...target, missingOk: true })).toEqual(["mystery"]);
    expect(() => mapPackageNames(map, ["mystery"], target)).toThrow(
      expect.objectContaining({
        code: "DIB_PKG_MAP_NO_MAPPING",
        message: "e has no valid mapping for package mystery",
      }),
    );
    expect(mapPackageNames(undefined, ["x"], { distro: "debian", missingOk: true })).toEqual(["x"]);
  });

  it("does not take inherited object keys for package names", () => {
    expect(() => mapPackageNames(map, ["constructor"], { distro: "debian" })).toThrow(
      expect.objectContaining({ code: "DIB_PKG_MAP_NO_MAPPING" }),
    );
  });

  it("reports a malformed pkg-map with its file and line", () => {
    expect(() => parsePkgMap('{\n  "default": {\n    "a": 1\n  }\n}', "/els/e/pkg-map")).toThrow(
      expect.objectContaining({
        code: "DIB_PKG_MAP_INVALID",
        message: expect.stringMatching(/^\/els\/e\/pkg-map:3: /),
      }),
    );
    expect(() => parsePkgMap('{\n  "familly": {}\n}', "/els/e/pkg-map")).toThrow(
      expect.objectContaining({ message: "/els/e/pkg-map:2: unknown key 'familly'" }),
    );
    expect(() => parsePkgMap('{"default": {', "/els/e/pkg-map")).toThrow(
      expect.objectContaining({ code: "DIB_PKG_MAP_INVALID", file: "/els/e/pkg-map" }),
    );
  });
});
