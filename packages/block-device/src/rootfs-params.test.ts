import { describe, expect, it } from "vitest";
import { defaultParams } from "./block-device.js";
import type { GraphEntry } from "./plugin.js";
import { mergeRootfsParams } from "./rootfs-params.js";

const params = defaultParams("/b", { rootFsType: "ext4" });

describe("mergeRootfsParams", () => {
  it("fills type, opts and label of mkfs_root from the globals", () => {
    const merged = mergeRootfsParams([{ mkfs: { name: "mkfs_root", base: "root" } }], {
      ...params,
      rootFsOpts: "-i 4096 -J size=64",
      rootLabel: "myroot",
    });
    expect(merged).toEqual([
      {
        mkfs: {
          name: "mkfs_root",
          base: "root",
          type: "ext4",
          opts: "-i 4096 -J size=64",
          label: "myroot",
        },
      },
    ]);
  });

  it("defaults the root label to cloudimg-rootfs, or img-rootfs for xfs", () => {
    expect(
      mergeRootfsParams([{ mkfs: { name: "mkfs_root", base: "r" } }], params)[0]?.mkfs?.label,
    ).toBe("cloudimg-rootfs");
    expect(
      mergeRootfsParams([{ mkfs: { name: "mkfs_root", base: "r" } }], {
        ...params,
        rootFsType: "xfs",
      })[0]?.mkfs?.label,
    ).toBe("img-rootfs");
    expect(
      mergeRootfsParams([{ mkfs: { name: "mkfs_root", base: "r", type: "xfs" } }], params)[0]?.mkfs
        ?.label,
    ).toBe("img-rootfs");
  });

  it("keeps what the config says, even over ROOT_LABEL (as DIB does)", () => {
    const merged = mergeRootfsParams(
      [{ mkfs: { name: "mkfs_root", base: "r", type: "btrfs", label: "mine" } }],
      {
        ...params,
        rootLabel: "theirs",
      },
    );
    expect(merged[0]?.mkfs).toMatchObject({ type: "btrfs", label: "mine" });
  });

  it("touches no other mkfs entry", () => {
    const entries: GraphEntry[] = [
      { mkfs: { name: "fs_root", base: "lv_root" } },
      { mount: { name: "mkfs_root", base: "x" } },
    ];
    expect(mergeRootfsParams(entries, params)).toEqual(entries);
  });
});
