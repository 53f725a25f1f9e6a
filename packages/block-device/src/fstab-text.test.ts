import { describe, expect, it } from "vitest";
import { renderFstab } from "./fstab-text.js";
import type { BlockDeviceState } from "./plugin.js";
import { emptyState } from "./state-store.js";

function stateWith(parts: Partial<BlockDeviceState>): BlockDeviceState {
  return { ...emptyState(), ...parts };
}

const fs = (label: string, fstype: string) => ({
  uuid: "u-u-i-d",
  label,
  fstype,
  opts: null,
  device: "/dev/x",
});

describe("renderFstab", () => {
  it("writes one LABEL= line per mount with an fstab entry, in mount order", () => {
    const state = stateWith({
      filesys: {
        mkfs_root: fs("cloudimg-rootfs", "ext4"),
        esp: fs("MKFS_ESP", "vfat"),
        swp: fs("swp", "swap"),
      },
      mount: {
        "/": { name: "mount_mkfs_root", base: "mkfs_root", path: "/mnt" },
        "/boot/efi": { name: "mount_esp", base: "esp", path: "/mnt/boot/efi" },
        none: { name: "mount_swp", base: "swp", path: "none" },
      },
      mount_order: ["/", "/boot/efi", "none"],
      fstab: {
        mount_mkfs_root: {
          name: "f1",
          base: "mount_mkfs_root",
          options: "defaults",
          "dump-freq": 0,
          "fsck-passno": 1,
        },
        mount_esp: {
          name: "f2",
          base: "mount_esp",
          options: "defaults",
          "dump-freq": 0,
          "fsck-passno": 2,
        },
        mount_swp: {
          name: "f3",
          base: "mount_swp",
          options: "sw",
          "dump-freq": 0,
          "fsck-passno": 0,
        },
      },
    });
    expect(renderFstab(state)).toBe(
      [
        "LABEL=cloudimg-rootfs / ext4 defaults 0 1",
        "LABEL=MKFS_ESP /boot/efi vfat defaults 0 2",
        "LABEL=swp none swap sw 0 0",
        "",
      ].join("\n"),
    );
  });

  it("leaves out mounts without an fstab entry", () => {
    const state = stateWith({
      filesys: { a: fs("a", "ext4") },
      mount: { "/": { name: "m", base: "a", path: "/mnt" } },
      mount_order: ["/"],
    });
    expect(renderFstab(state)).toBe("");
  });

  it("escapes blanks in labels, which DIB writes unescaped", () => {
    const state = stateWith({
      filesys: { a: fs("mkfs_Root Part", "ext4") },
      mount: { "/": { name: "m", base: "a", path: "/mnt" } },
      mount_order: ["/"],
      fstab: { m: { name: "f", base: "m", options: "defaults", "dump-freq": 0, "fsck-passno": 1 } },
    });
    expect(renderFstab(state)).toBe("LABEL=mkfs_Root\\040Part / ext4 defaults 0 1\n");
  });
});
