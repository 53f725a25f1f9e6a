import { KNOWN_OUTPUT_TYPES, parseOutputTypes } from "@dib/output";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { BUILD_USAGE } from "./commands/build.js";
import { parseBuildArgs } from "./commands/build-args.js";
import { routeArgs } from "./main.js";
import { createProgram } from "./program.js";

/**
 * The help of every command a person is shown (hidden ones, which hooks call, are left
 * out), as commander prints it with the width it has without a terminal.
 */
function allHelp(): Map<string, string> {
  const program = createProgram();
  const out = new Map<string, string>();
  const walk = (command: Command, path: string) => {
    out.set(path, command.helpInformation());
    const visible = command.createHelp().visibleCommands(command);
    for (const sub of visible) if (sub.name() !== "help") walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, "dib-cli");
  return out;
}

const tooWide = (text: string) => text.split("\n").filter((line) => [...line].length > 80);

describe("the help", () => {
  it("fits 80 columns, the build help and every command's", () => {
    expect(tooWide(BUILD_USAGE)).toEqual([]);
    for (const [command, text] of allHelp()) expect(tooWide(text), command).toEqual([]);
  });

  it("dib-cli help build prints the real build help", () => {
    expect(allHelp().get("dib-cli build")).toBe(BUILD_USAGE);
  });

  it("lists --trace and --ramdisk", () => {
    expect(BUILD_USAGE).toMatch(/^ {2}-x, --trace /m);
    expect(BUILD_USAGE).toMatch(/^ {2}--ramdisk /m);
  });

  it("lists for -t the types an unknown -t names in its error", () => {
    const tLine = BUILD_USAGE.slice(BUILD_USAGE.indexOf("-t TYPE"), BUILD_USAGE.indexOf("-x, "));
    const listed = tLine.replace(/\(default: qcow2\)/, "").match(/\b[a-z0-9]+\b/g) ?? [];
    expect(listed.filter((w) => KNOWN_OUTPUT_TYPES.includes(w as never))).toEqual([
      ...KNOWN_OUTPUT_TYPES,
    ]);
    const error = (() => {
      try {
        parseOutputTypes(["bogus"]);
      } catch (e) {
        return e as { hint?: string };
      }
      return {};
    })();
    expect(error.hint).toContain(`known types: ${KNOWN_OUTPUT_TYPES.join(", ")}`);
  });

  it("prints numeric defaults as numbers", () => {
    const bootTest = allHelp().get("dib-cli boot-test") ?? "";
    expect(bootTest).toContain("(default: 1024)");
    expect(bootTest).toContain("(default: 1)");
    for (const [command, text] of allHelp()) expect(text, command).not.toMatch(/default: "\d/);
  });
});

describe("diskimage-builder", () => {
  it("builds the images of YAML files, whatever their names", () => {
    const { args } = routeArgs(
      "diskimage-builder",
      ["--dry-run", "images.def"],
      new Set(["build"]),
    );
    expect(args).toEqual(["build", "--image-files", "--dry-run", "images.def"]);
    expect(parseBuildArgs(args.slice(1), {}, "/w")).toMatchObject({
      kind: "image-files",
      files: ["images.def"],
      dryRun: true,
    });
  });

  it("refuses to run without an image file", () => {
    expect(() => parseBuildArgs(["--image-files"], {}, "/w")).toThrow(/at least one image file/);
  });
});
