import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DibError } from "@dib/errors";
import { describe, expect, it } from "vitest";
import { findTool, requireTools, TOOL_PACKAGES, toolStatus } from "./tools.js";

describe("host tools", () => {
  it("names the Debian package of the tools users most often lack", () => {
    expect(TOOL_PACKAGES["qemu-img"]).toBe("qemu-utils");
    expect(TOOL_PACKAGES.sgdisk).toBe("gdisk");
    expect(TOOL_PACKAGES["mkfs.vfat"]).toBe("dosfstools");
    expect(TOOL_PACKAGES.mcopy).toBe("mtools");
    expect(TOOL_PACKAGES.mksquashfs).toBe("squashfs-tools");
  });

  it("finds an executable on PATH and ignores files that are not executable", () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-tools-"));
    writeFileSync(join(dir, "dib-fake-tool"), "#!/bin/sh\n");
    writeFileSync(join(dir, "dib-not-exec"), "");
    chmodSync(join(dir, "dib-fake-tool"), 0o755);
    expect(findTool("dib-fake-tool", dir)).toBe(join(dir, "dib-fake-tool"));
    expect(findTool("dib-not-exec", dir)).toBeUndefined();
    rmSync(dir, { recursive: true });
  });

  it("reports every missing tool at once with the packages to install", () => {
    let caught: unknown;
    try {
      requireTools(
        ["sh", "dib-no-such-tool-1", "dib-no-such-tool-2", "qemu-img-not-here"],
        "for the test",
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DibError);
    const error = caught as DibError;
    expect(error.code).toBe("DIB_TOOL_MISSING");
    expect(error.message).toContain("dib-no-such-tool-1, dib-no-such-tool-2");
    expect(error.message).toContain("for the test");
    expect(error.details.missing).toHaveLength(3);
  });

  it("puts the Debian package of a missing known tool in the hint", () => {
    try {
      requireTools(["sgdisk"], undefined);
    } catch (error) {
      // only when sgdisk is really missing on this host
      expect((error as DibError).hint).toBe("apt-get install gdisk");
    }
    const status = toolStatus(["sgdisk"]);
    expect(status[0]?.debianPackage).toBe("gdisk");
  });

  it("passes quietly when everything is there", () => {
    expect(() => requireTools(["sh"])).not.toThrow();
  });
});
