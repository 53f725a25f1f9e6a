import type { GraphEntry } from "@dib/block-device";
import { describe, expect, it } from "vitest";
import {
  checkMountPointUnique,
  hostPathOf,
  previousMount,
  sortedMountPoints,
} from "./mount-order.js";

// The mounts of DIB's lvm_tree_partition_ordering.yaml, in config order.
const graph: GraphEntry[] = [
  { mount: { name: "mount_mkfs_boot", base: "mkfs_boot", mount_point: "/boot" } },
  { mount: { name: "mount_mkfs_root", base: "mkfs_root", mount_point: "/" } },
  { mount: { name: "mount_mkfs_var", base: "mkfs_var", mount_point: "/var" } },
  { mount: { name: "mount_mkfs_swap", base: "mkfs_swap", mount_point: "none" } },
];

describe("mount order", () => {
  it("sorts mount points as strings, whatever the config order", () => {
    expect(sortedMountPoints(graph)).toEqual([
      ["/", "mount_mkfs_root"],
      ["/boot", "mount_mkfs_boot"],
      ["/var", "mount_mkfs_var"],
      ["none", "mount_mkfs_swap"],
    ]);
  });

  it("puts a parent before what is mounted in it", () => {
    const nested: GraphEntry[] = [
      { mount: { name: "log", base: "a", mount_point: "/var/log" } },
      { mount: { name: "audit", base: "b", mount_point: "/var/log/audit" } },
      { mount: { name: "var", base: "c", mount_point: "/var" } },
      { mount: { name: "efi", base: "d", mount_point: "/boot/efi" } },
      { mount: { name: "root", base: "e", mount_point: "/" } },
    ];
    expect(sortedMountPoints(nested).map(([mp]) => mp)).toEqual([
      "/",
      "/boot/efi",
      "/var",
      "/var/log",
      "/var/log/audit",
    ]);
  });

  it("makes each mount come after the one before it", () => {
    expect(previousMount(graph, "mount_mkfs_root")).toBeUndefined();
    expect(previousMount(graph, "mount_mkfs_boot")).toBe("mount_mkfs_root");
    expect(previousMount(graph, "mount_mkfs_swap")).toBe("mount_mkfs_var");
  });

  it("rejects a mount point used twice with DIB's text", () => {
    const twice = [...graph, { mount: { name: "again", base: "x", mount_point: "/var" } }];
    expect(() => checkMountPointUnique("/var", twice, 4)).toThrow(
      "Mount point [/var] specified more than once",
    );
    expect(() => checkMountPointUnique("/var", twice, 2)).not.toThrow();
  });

  it("maps mount points below the mount base", () => {
    expect(hostPathOf("/b/mnt", "/")).toBe("/b/mnt");
    expect(hostPathOf("/b/mnt/", "/boot/efi")).toBe("/b/mnt/boot/efi");
  });
});
