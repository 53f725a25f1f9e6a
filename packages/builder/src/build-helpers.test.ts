import { DEFAULT_BLOCK_DEVICE_CONFIG } from "@dib/block-device";
import { describe, expect, it } from "vitest";
import { eventLine } from "./build-log.js";
import { rootWasDeployed } from "./build-steps.js";
import { cliWrapperScript } from "./cli-wrapper.js";
import { installTypeEnvironment } from "./install-type.js";
import { chooseBlockDeviceConfig } from "./steps/block-device-step.js";
import { toBuildEvent } from "./steps/run-hooks.js";

describe("chooseBlockDeviceConfig", () => {
  const elements: { name: string; blockDeviceConfigs: Record<string, string> }[] = [
    { name: "a-plain", blockDeviceConfigs: {} },
    {
      name: "block-device-mbr",
      blockDeviceConfigs: { default: "/e/mbr/block-device-default.yaml" },
    },
    {
      name: "block-device-zzz",
      blockDeviceConfigs: {
        default: "/e/z/default.yaml",
        ppc64el: "/e/z/block-device-ppc64el.yaml",
      },
    },
  ];

  it("prefers DIB_BLOCK_DEVICE_CONFIG over every element", () => {
    expect(
      chooseBlockDeviceConfig({ configOption: "file:///x.yaml", elements, arch: "amd64" }),
    ).toEqual({
      source: "env",
      config: "file:///x.yaml",
    });
  });

  it("takes the first element with a layout, the arch-specific file first", () => {
    expect(chooseBlockDeviceConfig({ configOption: undefined, elements, arch: "amd64" })).toEqual({
      source: "element",
      config: "file:///e/mbr/block-device-default.yaml",
      element: "block-device-mbr",
    });
    expect(
      chooseBlockDeviceConfig({
        configOption: undefined,
        elements: elements.slice(2),
        arch: "ppc64le",
      }).config,
    ).toBe("file:///e/z/block-device-ppc64el.yaml");
  });

  it("falls back to one filesystem on the loop device", () => {
    expect(
      chooseBlockDeviceConfig({
        configOption: undefined,
        elements: elements.slice(0, 1),
        arch: "amd64",
      }),
    ).toEqual({
      source: "fallback",
      config: DEFAULT_BLOCK_DEVICE_CONFIG,
    });
  });
});

describe("small pieces of the pipeline", () => {
  it("takes a root with only lost+found or tmp as not deployed", () => {
    expect(rootWasDeployed([])).toBe(false);
    expect(rootWasDeployed(["lost+found", "tmp"])).toBe(false);
    expect(rootWasDeployed(["tmp", "etc"])).toBe(true);
  });

  it("writes the install-type environment file with a default the user can override", () => {
    expect(installTypeEnvironment("package")).toBe(
      `export DIB_DEFAULT_INSTALLTYPE=\${DIB_DEFAULT_INSTALLTYPE:-"package"}\n`,
    );
  });

  it("writes a dib-cli wrapper that passes the hook's arguments on", () => {
    expect(cliWrapperScript(["/usr/bin/node", "/opt/dib cli/bin.js"])).toBe(
      "#!/bin/sh\n# dib-cli for this build's hooks (written by @dib/builder)\nexec '/usr/bin/node' '/opt/dib cli/bin.js' \"$@\"\n",
    );
  });

  it("turns phase-runner events into build events", () => {
    expect(
      toBuildEvent({
        type: "script-end",
        phase: "install",
        script: "50-x",
        element: "e",
        exitCode: 0,
        seconds: 1.5,
        elapsed: 2,
      }),
    ).toEqual({
      type: "script-end",
      phase: "install.d",
      script: "50-x",
      element: "e",
      ms: 1500,
      exitCode: 0,
    });
    expect(
      toBuildEvent({
        type: "output",
        phase: "root",
        script: "08-x",
        stream: "stderr",
        line: "hello",
      }),
    ).toEqual({ type: "log", line: "hello", stream: "stderr", phase: "root.d", script: "08-x" });
  });

  it("renders events as log lines", () => {
    expect(eventLine({ type: "phase-end", phase: "install.d", ms: 1234, ok: false })).toBe(
      "<== install.d FAILED in 1.2s",
    );
    expect(eventLine({ type: "warning", message: "careful" })).toBe("WARNING: careful");
  });
});
