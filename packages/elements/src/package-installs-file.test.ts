import { describe, expect, it } from "vitest";
import { normalizePackageInstalls, parsePackageInstalls } from "./package-installs-file.js";

const FILE = "/els/app/package-installs.yaml";

describe("parsePackageInstalls", () => {
  it("reads every form a package's options can take", () => {
    const parsed = parsePackageInstalls(
      [
        "plain:",
        'empty: ""',
        "gcc:",
        "  build-only:",
        "old-thing:",
        "  uninstall: true",
        "  phase: pre-install.d",
        "kernel:",
        "  - arch: amd64, x86_64",
        '    when: ["DIB_RELEASE != xenial", "DIB_KERNEL=generic"]',
        "  - not-arch: [arm64]",
        "    installtype: package",
        "    dib_python_version: 3",
      ].join("\n"),
      FILE,
    );
    expect(parsed.file).toBe(FILE);
    const byName = Object.fromEntries(parsed.packages.map((p) => [p.name, p.rules]));
    expect(byName.plain).toEqual([
      { phase: "install.d", uninstall: false, buildOnly: false, when: [], file: FILE, line: 1 },
    ]);
    expect(byName.empty?.[0]).toMatchObject({
      phase: "install.d",
      uninstall: false,
      buildOnly: false,
    });
    expect(byName.gcc?.[0]).toMatchObject({ buildOnly: true, uninstall: false });
    expect(byName["old-thing"]?.[0]).toMatchObject({ uninstall: true, phase: "pre-install.d" });
    expect(byName.kernel).toEqual([
      {
        phase: "install.d",
        uninstall: false,
        buildOnly: false,
        arch: ["amd64", "x86_64"],
        when: [
          { variable: "DIB_RELEASE", op: "!=", value: "xenial", text: "DIB_RELEASE != xenial" },
          { variable: "DIB_KERNEL", op: "=", value: "generic", text: "DIB_KERNEL=generic" },
        ],
        file: FILE,
        line: 9,
      },
      {
        phase: "install.d",
        uninstall: false,
        buildOnly: false,
        notArch: ["arm64"],
        installtype: "package",
        dibPythonVersion: "3",
        when: [],
        file: FILE,
        line: 11,
      },
    ]);
  });

  it("reads JSON", () => {
    const parsed = parsePackageInstalls(
      '{"a": null, "b": {"phase": "post-install.d"}}',
      "/x/package-installs.json",
    );
    expect(parsed.packages.map((p) => [p.name, p.rules[0]?.phase])).toEqual([
      ["a", "install.d"],
      ["b", "post-install.d"],
    ]);
  });

  it("treats an empty file as no packages", () => {
    expect(parsePackageInstalls("", FILE).packages).toEqual([]);
    expect(parsePackageInstalls("# nothing yet\n", FILE).packages).toEqual([]);
  });

  it("reports malformed YAML with its file and line", () => {
    expect(() => parsePackageInstalls("good:\nbad: [unclosed\nmore: 1\n", FILE)).toThrow(
      expect.objectContaining({
        code: "DIB_PACKAGE_INSTALLS_INVALID",
        file: FILE,
        message: expect.stringMatching(/^\/els\/app\/package-installs\.yaml:\d+: /),
      }),
    );
    expect(() => parsePackageInstalls("a:\na:\n", FILE)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(`${FILE}:2: Map keys must be unique`),
      }),
    );
  });

  it("points at an unknown option's line", () => {
    expect(() =>
      parsePackageInstalls("a:\nb:\n  phase: install.d\n  buildonly: yes\n", FILE),
    ).toThrow(expect.objectContaining({ message: `${FILE}:4: unknown key 'buildonly' at b` }));
  });

  it("points at a bad phase's line", () => {
    expect(() =>
      parsePackageInstalls("b:\n  - phase: install.d\n  - phase: finalise.d\n", FILE),
    ).toThrow(
      expect.objectContaining({
        code: "DIB_PACKAGE_INSTALLS_INVALID",
        message: expect.stringMatching(/^\/els\/app\/package-installs\.yaml:3: .*at b\.1\.phase$/),
      }),
    );
  });

  it("rejects arch together with not-arch, and a when line it cannot read", () => {
    expect(() => parsePackageInstalls("x:\n  arch: amd64\n  not-arch: arm64\n", FILE)).toThrow(
      expect.objectContaining({
        message: `${FILE}:2: 'arch' and 'not-arch' cannot both be given; keep one of them`,
      }),
    );
    expect(() => parsePackageInstalls("x:\n  when: DIB_X ~ 1\n", FILE)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining("Malformed when line: DIB_X ~ 1"),
      }),
    );
  });

  it("rejects a package whose options are a plain word, or a file that is not a mapping", () => {
    expect(() => parsePackageInstalls("x: install\n", FILE)).toThrow(
      expect.objectContaining({
        message: `${FILE}:1: package 'x': expected nothing, a mapping of options or a list of them`,
      }),
    );
    expect(() => parsePackageInstalls("- a\n- b\n", FILE)).toThrow(
      expect.objectContaining({
        message: expect.stringContaining("expected a mapping of package names"),
      }),
    );
  });

  it("normalises already-parsed data without a file", () => {
    expect(normalizePackageInstalls({ p: { "build-only": "true" } }).packages[0]?.rules[0]).toEqual(
      {
        phase: "install.d",
        uninstall: false,
        buildOnly: true,
        when: [],
      },
    );
  });
});
