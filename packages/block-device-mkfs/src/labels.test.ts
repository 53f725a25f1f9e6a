import { type BlockDevicePlugin, defaultParams, planBlockDevice } from "@dib/block-device";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkLabelLength, labelOf } from "./labels.js";
import { mkfsPlugin } from "./mkfs-plugin.js";

const params = defaultParams("/build");
/** Stands in for the disk levels below mkfs. */
const disk: BlockDevicePlugin<{ name: string }> = {
  name: "disk",
  schema: z.strictObject({ name: z.string() }),
  nodes: ({ config }) => [{ name: config.name, after: [], create: async () => {} }],
};
const plan = (yaml: string) => planBlockDevice(yaml, { plugins: [disk, mkfsPlugin], params });

describe("mkfs labels", () => {
  it("default to the node's name", () => {
    expect(labelOf({ name: "fs_var", type: "xfs" })).toBe("fs_var");
    expect(labelOf({ name: "fs_var", type: "xfs", label: "var" })).toBe("var");
  });

  it("are upper case on FAT", () => {
    expect(labelOf({ name: "mkfs_ESP", type: "vfat" })).toBe("MKFS_ESP");
    expect(labelOf({ name: "x", type: "vfat", label: "efi" })).toBe("EFI");
  });

  it.each([
    ["ext2", 16],
    ["ext3", 16],
    ["ext4", 16],
    ["xfs", 12],
    ["vfat", 11],
    ["swap", 16],
    ["btrfs", 255],
  ])("may be %s characters long on %s", (type, max) => {
    expect(() => checkLabelLength("x".repeat(max), type)).not.toThrow();
    expect(() => checkLabelLength("x".repeat(max + 1), type)).toThrow(
      `Label [${"x".repeat(max + 1)}] too long for filesystem [${type}]: ${max + 1} > ${max}`,
    );
  });

  it("are not checked for types mkfs does not know the limits of", () => {
    expect(() => checkLabelLength("x".repeat(300), "f2fs")).not.toThrow();
  });

  it("too long for the type fail the config with DIB's text (too_long_fs_label.yaml)", () => {
    expect(() =>
      plan(
        "- mkfs: {base: fake, name: mkfs_root, label: this_label_is_too_long_to_work_with_xfs, type: xfs}",
      ),
    ).toThrow(
      "Label [this_label_is_too_long_to_work_with_xfs] too long for filesystem [xfs]: 39 > 12",
    );
  });

  it("used twice fail the config", () => {
    expect(() =>
      plan(
        "- mkfs: {base: a, name: one, label: data, type: ext4}\n- mkfs: {base: b, name: two, label: data, type: xfs}",
      ),
    ).toThrow("File system label [data] used more than once");
  });

  it("of mkfs_root default per FS_TYPE", () => {
    const graph = plan("- disk: {name: root}\n- mkfs: {base: root, name: mkfs_root}");
    expect(graph.config[1]).toEqual({
      mkfs: { base: "root", name: "mkfs_root", type: "ext4", label: "cloudimg-rootfs" },
    });
  });
});
