import { describe, expect, it } from "vitest";
import { getval } from "./getval.js";
import type { BlockDeviceState, GraphEntry } from "./plugin.js";
import { emptyState } from "./state-store.js";

const config: GraphEntry[] = [
  { local_loop: { name: "image0" } },
  { mount: { name: "mount_esp", base: "esp_fs", mount_point: "/boot/efi" } },
  { mkfs: { name: "esp_fs", base: "ESP", type: "vfat" } },
  { mount: { name: "mount_boot", base: "mkfs_boot", mount_point: "/boot" } },
  { mkfs: { name: "mkfs_boot", base: "boot", type: "ext4", label: "BOOT" } },
  { mount: { name: "mount_mkfs_root", base: "mkfs_root", mount_point: "/" } },
  { mkfs: { name: "mkfs_root", base: "root", type: "xfs", label: "img-rootfs" } },
];

const state: BlockDeviceState = {
  ...emptyState(),
  blockdev: {
    image0: { device: "/dev/loop3", image: "/tmp/x/image0.raw" },
    ESP: { device: "/dev/loop3p1" },
    root: { device: "/dev/loop3p3" },
  },
};

const val = (symbol: string, s: BlockDeviceState = state) => getval(symbol, config, () => s);

describe("getval", () => {
  it("reads the root label and type from the filesystem mounted at /", () => {
    expect(val("root-label")).toBe("img-rootfs");
    expect(val("root-fstype")).toBe("xfs");
  });

  it("reads the boot label from the filesystem mounted at /boot", () => {
    expect(val("boot-label")).toBe("BOOT");
    expect(getval("boot-label", config.slice(0, 3), () => state)).toBe("");
  });

  it("joins every mount point with | in config order", () => {
    expect(val("mount-points")).toBe("/boot/efi|/boot|/");
  });

  it("reports the image file and device of image0", () => {
    expect(val("image-path")).toBe("/tmp/x/image0.raw");
    expect(val("image-block-device")).toBe("/dev/loop3");
  });

  it("lists every block device as a bash associative-array body", () => {
    expect(val("image-block-devices")).toBe(
      " [image0]=/dev/loop3  [ESP]=/dev/loop3p1  [root]=/dev/loop3p3 ",
    );
  });

  it("gives the partition called root as image-block-partition, else image0", () => {
    expect(val("image-block-partition")).toBe("/dev/loop3p3");
    expect(
      val("image-block-partition", { ...state, blockdev: { image0: { device: "/dev/loop9" } } }),
    ).toBe("/dev/loop9");
  });

  it("answers the config symbols without a state", () => {
    expect(
      getval("root-label", config, () => {
        throw new Error("no state");
      }),
    ).toBe("img-rootfs");
  });

  it("uses the name as the label where the config gives none, upper case for vfat", () => {
    const cfg: GraphEntry[] = [
      { mount: { name: "m", base: "fs_root", mount_point: "/" } },
      { mkfs: { name: "fs_root", base: "lv", type: "vfat" } },
    ];
    expect(getval("root-label", cfg, () => state)).toBe("FS_ROOT");
  });

  it("rejects an unknown symbol", () => {
    expect(() => val("root-size")).toThrow("Invalid symbol [root-size] for getval");
  });
});
