import { describe, expect, it } from "vitest";
import { planBuild } from "./build-plan.js";

const input = {
  imageTypes: ["qcow2"],
  imageElements: ["base", "debian-minimal", "vm", "block-device-mbr"],
  installPackages: [],
  ramdisk: false,
  blockDeviceConfig: "element" as const,
};

describe("planBuild", () => {
  it("makes another architecture's programs runnable before the first hook, for a foreign ARCH only", () => {
    const names = (foreignArch: boolean) =>
      planBuild({ ...input, foreignArch }).steps.map((s) => s.name);
    expect(names(true).slice(0, 4)).toEqual(["elements", "workspace", "foreign-arch", "hooks"]);
    expect(names(false)).not.toContain("foreign-arch");
  });

  it("runs the phases in DIB's order for a disk image", () => {
    const plan = planBuild(input);
    expect(plan.steps.map((s) => s.name)).toEqual([
      "elements",
      "workspace",
      "hooks",
      "block-device-init",
      "root.d",
      "install-type",
      "extra-data.d",
      "chroot-mount",
      "pre-install.d",
      "install.d",
      "post-install.d",
      "post-root.d",
      "root-unmount",
      "size",
      "block-device.d",
      "block-device-create",
      "copy",
      "finalise-mount",
      "pre-finalise.d",
      "finalise.d",
      "cleanup.d",
      "finalise-base",
      "tree-unmount",
      "block-device-umount",
      "block-device-cleanup",
      "disk-outputs",
      "workspace-cleanup",
    ]);
    expect(plan).toMatchObject({
      disk: true,
      convert: true,
      diskOutputs: ["qcow2"],
      treeOutputs: [],
    });
  });

  it("runs the chroot phases in the chroot and gives TARGET_ROOT to root.d and cleanup.d only", () => {
    const steps = planBuild(input).steps;
    const where = Object.fromEntries(
      steps.filter((s) => s.hookPhase).map((s) => [s.name, s.where]),
    );
    expect(where).toEqual({
      "root.d": "outside",
      "extra-data.d": "outside",
      "pre-install.d": "chroot",
      "install.d": "chroot",
      "post-install.d": "chroot",
      "post-root.d": "outside",
      "block-device.d": "outside",
      "pre-finalise.d": "outside",
      "finalise.d": "chroot",
      "cleanup.d": "outside",
    });
    expect(steps.filter((s) => s.targetRoot).map((s) => s.name)).toEqual(["root.d", "cleanup.d"]);
  });

  it("installs -p packages right after install.d", () => {
    const names = planBuild({ ...input, installPackages: ["vim"] }).steps.map((s) => s.name);
    expect(names.slice(names.indexOf("install.d"), names.indexOf("install.d") + 3)).toEqual([
      "install.d",
      "install-packages",
      "post-install.d",
    ]);
  });

  it("makes tree outputs while the image is still mounted, before the block device goes", () => {
    const names = planBuild({ ...input, imageTypes: ["tar", "qcow2"] }).steps.map((s) => s.name);
    expect(names.indexOf("tree-outputs")).toBeLessThan(names.indexOf("block-device-umount"));
    expect(names.indexOf("tree-unmount")).toBeLessThan(names.indexOf("tree-outputs"));
    expect(names.indexOf("disk-outputs")).toBeGreaterThan(names.indexOf("block-device-cleanup"));
  });

  it("makes no disk for tree-only outputs when no element asks for a block-device layout", () => {
    const plan = planBuild({
      ...input,
      imageElements: ["base", "debian-minimal"],
      imageTypes: ["tar"],
      blockDeviceConfig: "fallback",
    });
    expect(plan.disk).toBe(false);
    const names = plan.steps.map((s) => s.name);
    for (const step of [
      "size",
      "block-device.d",
      "block-device-create",
      "copy",
      "block-device-umount",
    ]) {
      expect(names).not.toContain(step);
    }
    expect(names).toContain("finalise.d");
    expect(names).toContain("tree-outputs");
  });

  it("still makes the disk for a tar when an element chose a layout (the bootloader needs it)", () => {
    expect(planBuild({ ...input, imageTypes: ["tar"] }).disk).toBe(true);
  });

  it("skips the conversions with no-final-image and for ramdisks", () => {
    const noFinal = planBuild({
      ...input,
      imageElements: [...input.imageElements, "no-final-image"],
    });
    expect(noFinal).toMatchObject({ convert: false, diskOutputs: [] });
    expect(noFinal.steps.map((s) => s.name)).not.toContain("disk-outputs");
    expect(planBuild({ ...input, ramdisk: true }).convert).toBe(false);
  });
});
