import { describe, expect, it } from "vitest";
import { decideTmpfs, memTotalKb } from "./tmpfs-policy.js";

const meminfo = (kb: number) => `MemTotal:       ${kb} kB\nMemFree:         1000 kB\n`;

describe("decideTmpfs", () => {
  it("uses a tmpfs when RAM is at least twice the minimum", () => {
    expect(
      decideTmpfs({ noTmpfs: false, minTmpfsGb: 2, meminfo: meminfo(4194304), tmpDir: "/tmp" }),
    ).toEqual({
      use: true,
    });
  });

  it("warns with DIB's words and builds on disk when RAM is short", () => {
    expect(
      decideTmpfs({ noTmpfs: false, minTmpfsGb: 2, meminfo: meminfo(4194303), tmpDir: "/var/tmp" }),
    ).toEqual({
      use: false,
      warning: "Not enough RAM to use tmpfs for build. Using /var/tmp. (4194303 < 4G)",
    });
  });

  it("stays on disk without a word when tmpfs is turned off or meminfo is unreadable", () => {
    expect(
      decideTmpfs({ noTmpfs: true, minTmpfsGb: 0, meminfo: meminfo(1e9), tmpDir: "/tmp" }),
    ).toEqual({ use: false });
    expect(
      decideTmpfs({ noTmpfs: false, minTmpfsGb: 2, meminfo: undefined, tmpDir: "/tmp" }),
    ).toEqual({ use: false });
  });

  it("reads MemTotal from /proc/meminfo", () => {
    expect(memTotalKb(meminfo(123))).toBe(123);
    expect(memTotalKb("nothing")).toBeUndefined();
  });
});
