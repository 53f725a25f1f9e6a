import { architecture } from "@dib/elements";
import { parseOutputTypes } from "@dib/output";
import { describe, expect, it } from "vitest";
import { parseBuildArgs } from "./commands/build-args.js";
import {
  formatInvocation,
  imageInvocation,
  mergeImageDefinitions,
  parseImageFile,
} from "./image-file.js";

describe("mergeImageDefinitions", () => {
  it("continues the previous image when a definition has no name, starting from 'image'", () => {
    const merged = mergeImageDefinitions([
      { elements: ["debian-minimal"] },
      { types: ["tar"] },
      { imagename: "two", elements: ["ubuntu-minimal"] },
      { packages: ["vim"] },
    ]);
    expect(merged).toEqual([
      { imagename: "image", elements: ["debian-minimal"], types: ["tar"] },
      { imagename: "two", elements: ["ubuntu-minimal"], packages: ["vim"] },
    ]);
  });

  it("appends lists, updates maps and overwrites scalars for the same name", () => {
    const merged = mergeImageDefinitions([
      { imagename: "a", elements: ["vm"], environment: { X: "1", Y: "1" }, "image-size": 2 },
      { imagename: "b", elements: ["other"] },
      { imagename: "a", elements: ["debian-minimal"], environment: { Y: "2" }, "image-size": 3 },
    ]);
    expect(merged).toEqual([
      {
        imagename: "a",
        elements: ["vm", "debian-minimal"],
        environment: { X: "1", Y: "2" },
        "image-size": 3,
      },
      { imagename: "b", elements: ["other"] },
    ]);
  });
});

describe("parseImageFile", () => {
  it("accepts DIB's keys and rejects unknown ones, naming where", () => {
    const text = "- imagename: x\n  elements: [debian-minimal]\n  no-tmpfs: true\n";
    expect(parseImageFile(text, "i.yaml")).toEqual([
      { imagename: "x", elements: ["debian-minimal"], "no-tmpfs": true },
    ]);
    expect(() => parseImageFile("- imagename: x\n  colour: blue\n", "i.yaml")).toThrow(
      /i\.yaml: invalid image definition/,
    );
    expect(() => parseImageFile("- arch: 64\n", "i.yaml")).toThrow(/at 0\.arch/);
    expect(() => parseImageFile("imagename: x\n", "i.yaml")).toThrow(/invalid image definition/);
  });

  it("takes `arch` as -a does: every name @dib/elements knows, the others refused by it", () => {
    const [definition] = parseImageFile("- arch: i386\n  elements: [vm]\n", "i.yaml");
    const argv = imageInvocation({ imagename: "x", ...definition }).argv;
    expect(argv).toEqual(["-o", "x", "-a", "i386", "--", "vm"]);
    expect(architecture("i386").name).toBe("i386");
    const [other] = parseImageFile("- arch: sparc\n", "i.yaml");
    expect(() => architecture(other?.arch ?? "")).toThrow(/sparc/);
  });

  it("takes `types` as -t does: every type @dib/output knows, the others refused by its parser", () => {
    const [definition] = parseImageFile("- types: [vpc, qed, aci]\n  elements: [vm]\n", "i.yaml");
    const argv = imageInvocation({ imagename: "x", ...definition }).argv;
    expect(argv).toEqual(["-o", "x", "-t", "vpc,qed,aci", "--", "vm"]);
    const parsed = parseBuildArgs(argv, { HOME: "/h" }, "/w");
    const types = parsed.kind === "build" ? parsed.options.imageTypes : [];
    expect(() => parseOutputTypes(types ?? [])).toThrow(/unknown output type: aci/);
    expect(parseOutputTypes(["vpc", "qed"])).toEqual(["vpc", "qed"]);
  });
});

describe("imageInvocation", () => {
  it("renders every key as the build option it stands for", () => {
    const invocation = imageInvocation({
      imagename: "out/img",
      arch: "amd64",
      types: ["qcow2", "tar"],
      environment: { DIB_RELEASE: "bookworm" },
      "debug-trace": 2,
      uncompressed: true,
      clear: false,
      logfile: "b.log",
      checksum: true,
      "image-size": 2,
      "image-extra-size": 100,
      "image-cache": "/c",
      "max-online-resize": 1000,
      "min-tmpfs": 1,
      "mkfs-journal-size": 16,
      "mkfs-options": "-m 1",
      "no-tmpfs": true,
      offline: true,
      "qemu-img-options": { compat: "1.1", lazy_refcounts: "on" },
      "root-label": "root",
      "install-type": "package",
      "docker-target": "me/x:1",
      packages: ["vim", "curl"],
      "skip-base": true,
      elements: ["debian-minimal", "vm"],
    });
    expect(invocation.argv).toEqual([
      "-o",
      "out/img",
      "-a",
      "amd64",
      "-t",
      "qcow2,tar",
      "-x",
      "-x",
      "-u",
      "--logfile",
      "b.log",
      "--checksum",
      "--image-size",
      "2",
      "--image-extra-size",
      "100",
      "--image-cache",
      "/c",
      "--max-online-resize",
      "1000",
      "--min-tmpfs",
      "1",
      "--mkfs-journal-size",
      "16",
      "--mkfs-options",
      "-m 1",
      "--no-tmpfs",
      "--offline",
      "--qemu-img-options",
      "compat=1.1,lazy_refcounts=on",
      "--root-label",
      "root",
      "--install-type",
      "package",
      "--docker-target",
      "me/x:1",
      "-p",
      "vim,curl",
      "-n",
      "--",
      "debian-minimal",
      "vm",
    ]);
    expect(invocation.environment).toEqual({ DIB_RELEASE: "bookworm" });
    expect(formatInvocation(invocation)).toMatch(
      /^DIB_RELEASE=bookworm dib-cli build -o out\/img .* --mkfs-options '-m 1' /,
    );
  });

  it("produces arguments the build parser accepts, extra size and journal size included", () => {
    const invocation = imageInvocation({
      imagename: "x",
      "image-extra-size": 50,
      "mkfs-journal-size": 8,
      elements: ["debian-minimal"],
    });
    const parsed = parseBuildArgs(invocation.argv, { HOME: "/h", ...invocation.environment }, "/w");
    expect(parsed).toMatchObject({
      kind: "build",
      options: {
        imageName: "x",
        imageExtraSizeMb: 50,
        journalSizeMb: 8,
        elements: ["debian-minimal"],
      },
    });
  });
});
