import { describe, expect, it } from "vitest";
import { isAtOrBelow, mountsBelow, parseMountinfo } from "./mountinfo.js";

const SAMPLE = [
  "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "30 22 0:5 / /tmp/dib_build.x/mnt rw - ext4 /dev/loop0 rw",
  "31 30 0:6 / /tmp/dib_build.x/mnt/proc rw - proc none rw",
  "32 30 0:7 / /tmp/dib_build.x/mnt/with\\040space rw - tmpfs tmpfs rw",
  "33 22 0:8 / /tmp/dib_build.xy rw - tmpfs tmpfs rw",
].join("\n");

describe("mountinfo", () => {
  it("parses targets, filesystem types and sources, decoding octal escapes", () => {
    const entries = parseMountinfo(SAMPLE);
    expect(entries).toHaveLength(5);
    expect(entries[1]).toMatchObject({
      id: 30,
      parentId: 22,
      target: "/tmp/dib_build.x/mnt",
      fstype: "ext4",
      source: "/dev/loop0",
    });
    expect(entries[3]?.target).toBe("/tmp/dib_build.x/mnt/with space");
  });

  it("finds the mounts at or below a directory, deepest first, without prefix confusion", () => {
    const below = mountsBelow("/tmp/dib_build.x", parseMountinfo(SAMPLE)).map((m) => m.target);
    expect(below).toEqual([
      "/tmp/dib_build.x/mnt/with space",
      "/tmp/dib_build.x/mnt/proc",
      "/tmp/dib_build.x/mnt",
    ]);
  });

  it("compares paths by component", () => {
    expect(isAtOrBelow("/a/b", "/a")).toBe(true);
    expect(isAtOrBelow("/a", "/a")).toBe(true);
    expect(isAtOrBelow("/ab", "/a")).toBe(false);
    expect(isAtOrBelow("/a/b", "/a/")).toBe(true);
    expect(isAtOrBelow("/anything", "/")).toBe(true);
  });
});
