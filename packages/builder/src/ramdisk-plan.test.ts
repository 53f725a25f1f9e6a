import { describe, expect, it } from "vitest";
import { planBuild } from "./build-plan.js";

describe("planBuild for ramdisk-image-create (§2.11)", () => {
  const ramdisk = {
    imageElements: ["ramdisk", "ramdisk-base", "debian-minimal"],
    installPackages: [],
    ramdisk: true,
    blockDeviceConfig: "fallback" as const,
  };

  it("converts nothing and makes no disk: the ramdisk elements write the outputs", () => {
    const plan = planBuild({ ...ramdisk, imageTypes: ["qcow2"] });
    expect(plan.convert).toBe(false);
    expect(plan.disk).toBe(false);
    expect(plan.diskOutputs).toEqual([]);
    const names = plan.steps.map((s) => s.name);
    // The ramdisk is built in post-install.d and taken out in cleanup.d.
    expect(names.indexOf("post-install.d")).toBeLessThan(names.indexOf("cleanup.d"));
    expect(names).not.toContain("block-device.d");
  });

  it("still writes the tree formats asked for with -t (tar, squashfs)", () => {
    const plan = planBuild({ ...ramdisk, imageTypes: ["tar", "squashfs", "qcow2"] });
    expect(plan.treeOutputs).toEqual(["tar", "squashfs"]);
    expect(plan.diskOutputs).toEqual([]);
  });
});
