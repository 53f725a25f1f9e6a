import { describe, expect, it } from "vitest";
import { normalizePackageInstalls, parsePackageInstalls } from "./package-installs-file.js";
import { collectPackageInstalls, squashPackageInstalls } from "./package-installs-squash.js";

const of = (data: unknown) => normalizePackageInstalls(data);

describe("squashPackageInstalls", () => {
  it("matches an architecture in a comma list with spaces (DIB would not)", () => {
    const result = squashPackageInstalls(
      [{ name: "e", packageInstalls: [of({ pkg: { arch: "ppc64, x86_64" } })] }],
      {
        ARCH: "x86_64",
      },
    );
    expect(result).toEqual({ "install.d": { install: [["pkg", "e"]], uninstall: [] } });
  });

  it("filters by install type per element, falling back to DIB_DEFAULT_INSTALLTYPE and then source", () => {
    const installs = of({
      "from-source": { installtype: "source" },
      "from-package": { installtype: "package" },
    });
    const squash = (env: Record<string, string>) =>
      squashPackageInstalls([{ name: "my-elem", packageInstalls: [installs] }], env)["install.d"]
        ?.install;
    expect(squash({})).toEqual([["from-source", "my-elem"]]);
    expect(squash({ DIB_DEFAULT_INSTALLTYPE: "package" })).toEqual([["from-package", "my-elem"]]);
    expect(
      squash({ DIB_DEFAULT_INSTALLTYPE: "package", DIB_INSTALLTYPE_my_elem: "source" }),
    ).toEqual([["from-source", "my-elem"]]);
  });

  it("filters by dib_python_version", () => {
    const installs = of({ py2: { dib_python_version: 2 }, py3: { dib_python_version: "3" } });
    expect(
      squashPackageInstalls([{ name: "e", packageInstalls: [installs] }], {
        DIB_PYTHON_VERSION: "3",
      })["install.d"],
    ).toEqual({ install: [["py3", "e"]], uninstall: [] });
  });

  it("groups by phase in build order, removes with uninstall and both with build-only", () => {
    const installs = of({
      late: { phase: "post-install.d" },
      early: { phase: "pre-install.d", uninstall: null },
      compiler: { "build-only": true },
    });
    const result = squashPackageInstalls([{ name: "e", packageInstalls: [installs] }], {});
    expect(Object.keys(result)).toEqual(["pre-install.d", "install.d", "post-install.d"]);
    expect(result["pre-install.d"]).toEqual({ install: [], uninstall: [["early", "e"]] });
    expect(result["install.d"]).toEqual({
      install: [["compiler", "e"]],
      uninstall: [["compiler", "e"]],
    });
  });

  it("ignores an uninstall of a package another element installs in that phase", () => {
    const result = squashPackageInstalls(
      [
        { name: "a", packageInstalls: [of({ curl: null })] },
        { name: "b", packageInstalls: [of({ curl: { uninstall: true } })] },
      ],
      {},
    );
    expect(result["install.d"]).toEqual({ install: [["curl", "a"]], uninstall: [] });
  });

  it("lets a filtered-out install leave another element's uninstall alone", () => {
    const result = squashPackageInstalls(
      [
        { name: "a", packageInstalls: [of({ tool: { uninstall: true } })] },
        { name: "b", packageInstalls: [of({ tool: { arch: "arm64" } })] },
      ],
      { ARCH: "amd64" },
    );
    expect(result["install.d"]).toEqual({ install: [], uninstall: [["tool", "a"]] });
  });

  it("compares architectures by what they name: aarch64 is arm64, x86_64 is amd64", () => {
    const elements = [
      {
        name: "k",
        packageInstalls: [
          of({
            "linux-image-arm64": { arch: "arm64" },
            "grub2-efi-aa64": { arch: "aarch64" },
            "grub-pc": { "not-arch": "aarch64" },
            "linux-image-amd64": { arch: "x86_64" },
          }),
        ],
      },
    ];
    const names = (arch: string) =>
      squashPackageInstalls(elements, { ARCH: arch })["install.d"]?.install.map(([p]) => p);
    expect(names("aarch64")).toEqual(["linux-image-arm64", "grub2-efi-aa64"]);
    expect(names("arm64")).toEqual(["linux-image-arm64", "grub2-efi-aa64"]);
    expect(names("amd64")).toEqual(["grub-pc", "linux-image-amd64"]);
  });

  it("fails on an architecture filter without ARCH, and on a when variable that is not set", () => {
    expect(() =>
      squashPackageInstalls([{ name: "e", packageInstalls: [of({ p: { arch: "amd64" } })] }], {}),
    ).toThrow(expect.objectContaining({ code: "DIB_PACKAGE_INSTALLS_NO_ARCH" }));
    const file = parsePackageInstalls("p:\n  when: DIB_FLAG = 1\n", "/e/package-installs.yaml");
    expect(() => squashPackageInstalls([{ name: "e", packageInstalls: [file] }], {})).toThrow(
      expect.objectContaining({
        code: "DIB_PACKAGE_INSTALLS_WHEN_UNSET",
        message: "The variable <DIB_FLAG> is not set",
        file: "/e/package-installs.yaml",
        hint: expect.stringContaining("(line 2)"),
      }),
    );
  });

  it("does not change the state it is given", () => {
    const before = squashPackageInstalls([{ name: "a", packageInstalls: [of({ x: null })] }], {});
    const snapshot = JSON.stringify(before);
    collectPackageInstalls(before, "b", of({ x: { uninstall: true }, y: null }), {});
    expect(JSON.stringify(before)).toBe(snapshot);
  });
});
