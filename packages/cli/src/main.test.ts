import { describe, expect, it } from "vitest";
import { BUILD_USAGE } from "./commands/build.js";
import { parseBuildArgs } from "./commands/build-args.js";
import { routeArgs } from "./main.js";

const commands = new Set(["build", "boot-test", "elements"]);

describe("routeArgs: what each bin's arguments mean", () => {
  it("ramdisk-image-create ARGS is dib-cli build --ramdisk ARGS, whatever its first word", () => {
    expect(routeArgs("ramdisk-image-create", ["-o", "rd", "debian"], commands).args).toEqual([
      "build",
      "--ramdisk",
      "-o",
      "rd",
      "debian",
    ]);
    // An element named like a command is still an element for DIB's bins.
    expect(routeArgs("ramdisk-image-create", ["elements"], commands).args).toEqual([
      "build",
      "--ramdisk",
      "elements",
    ]);
  });

  it("disk-image-create adds no --ramdisk, dib-cli routes only non-commands to build", () => {
    expect(routeArgs("disk-image-create", ["debian"], commands).args).toEqual(["build", "debian"]);
    expect(routeArgs("dib-cli", ["debian"], commands).args).toEqual(["build", "debian"]);
    expect(routeArgs("dib-cli", ["boot-test", "x"], commands)).toEqual({
      args: ["boot-test", "x"],
      isBuild: false,
      buildBin: undefined,
    });
  });

  it("the routed arguments parse as a ramdisk build with DIB's --ramdisk-element", () => {
    const { args } = routeArgs(
      "ramdisk-image-create",
      ["--ramdisk-element", "dracut-ramdisk", "-o", "rd", "debian-minimal"],
      commands,
    );
    const parsed = parseBuildArgs(args.slice(1), {}, "/work");
    expect(parsed.kind === "build" ? parsed.options : parsed).toMatchObject({
      ramdisk: true,
      ramdiskElement: "dracut-ramdisk",
      elements: ["debian-minimal"],
    });
  });

  it("dib-cli build --help shows --ramdisk and the ramdisk-image-create bin", () => {
    expect(BUILD_USAGE).toMatch(/^\s+--ramdisk\s+build a ramdisk/m);
    expect(BUILD_USAGE).toMatch(/ramdisk-image-create \[OPTION\]\.\.\. ELEMENT\.\.\./);
  });
});
