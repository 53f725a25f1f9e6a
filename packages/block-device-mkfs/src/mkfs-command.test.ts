import { describe, expect, it } from "vitest";
import { fatVolumeId, mkfsCommand } from "./mkfs-command.js";
import { mkfsPlugin } from "./mkfs-plugin.js";
import { mkfsSchema } from "./schema.js";

const uuid = "0f3c6a4e-1b2d-4c5e-8f90-123456789abc";
const cmd = (config: Record<string, unknown>, label = "lbl") =>
  mkfsCommand(mkfsSchema.parse({ name: "fs", base: "b", ...config }), label, uuid, "/dev/loop0p1");

describe("mkfsCommand", () => {
  it("makes ext filesystems quietly with label and UUID", () => {
    expect(cmd({ type: "ext4" })).toEqual([
      "mkfs.ext4",
      "-L",
      "lbl",
      "-U",
      uuid,
      "-q",
      "/dev/loop0p1",
    ]);
    expect(cmd({ type: "ext2" })[0]).toBe("mkfs.ext2");
  });

  it("puts the config's opts first, split on blanks", () => {
    expect(cmd({ type: "ext4", opts: "-i 4096  -J size=64" })).toEqual([
      "mkfs.ext4",
      "-i",
      "4096",
      "-J",
      "size=64",
      "-L",
      "lbl",
      "-U",
      uuid,
      "-q",
      "/dev/loop0p1",
    ]);
  });

  it("gives xfs its UUID through -m", () => {
    expect(cmd({ type: "xfs" })).toEqual([
      "mkfs.xfs",
      "-L",
      "lbl",
      "-m",
      `uuid=${uuid}`,
      "-q",
      "/dev/loop0p1",
    ]);
  });

  it("gives vfat a volume name and a volume id from the UUID", () => {
    expect(cmd({ type: "vfat" }, "MKFS_ESP")).toEqual([
      "mkfs.vfat",
      "-n",
      "MKFS_ESP",
      "-i",
      "0F3C6A4E",
      "/dev/loop0p1",
    ]);
    expect(fatVolumeId(uuid)).toBe("0F3C6A4E");
  });

  it("makes btrfs with label and UUID", () => {
    expect(cmd({ type: "btrfs" })).toEqual([
      "mkfs.btrfs",
      "-L",
      "lbl",
      "-U",
      uuid,
      "-q",
      "/dev/loop0p1",
    ]);
  });

  it("makes swap with mkswap", () => {
    expect(cmd({ type: "swap" })).toEqual([
      "mkswap",
      "-L",
      "lbl",
      "-U",
      uuid,
      "-q",
      "/dev/loop0p1",
    ]);
  });

  it("needs the type's mkfs tool", () => {
    const parse = (type: string) => mkfsSchema.parse({ name: "a", base: "b", type });
    expect(mkfsPlugin.tools?.(parse("xfs"))).toEqual(["mkfs.xfs"]);
    expect(mkfsPlugin.tools?.(parse("swap"))).toEqual(["mkswap"]);
  });
});

describe("mkfs schema", () => {
  it("says which key is missing in DIB's words", () => {
    const result = mkfsSchema.safeParse({ name: "a", base: "b" });
    expect(result.error?.issues[0]?.message).toBe("Mkfs config needs type");
  });
});
