import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { bytesAt, partxRows, sparseDisk } from "./__fixtures__/sparse-disk.js";
import { applyDiskWrites } from "./disk-writes.js";
import { planMbr } from "./mbr-plan.js";
import { encodeChs, mbrWrites } from "./mbr-writer.js";
import { planPartitionLayout } from "./partition-layout.js";
import type { PartitionConfig, PartitioningConfig } from "./schema.js";

const GiB = 1024 ** 3;
const tenMiB = (name: string, primary: boolean, type?: string): PartitionConfig => ({
  name,
  size: "10MiB",
  flags: primary ? ["primary"] : [],
  ...(type ? { type } : {}),
});
const mbr = (partitions: PartitionConfig[]): PartitioningConfig => ({
  base: "image0",
  label: "mbr",
  partitions,
});

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

/** Writes the table of `config` to a sparse 1 GiB file and reads it back with partx. */
function writeAndRead(config: PartitioningConfig, size = GiB, sectorSize = 512) {
  const disk = sparseDisk(size);
  cleanup.push(disk.remove);
  applyDiskWrites(disk.path, mbrWrites(planMbr(config, size, sectorSize), 0x12345678));
  return { path: disk.path, rows: () => partxRows(disk.path, sectorSize) };
}

// DIB's test_mbr.py cases (conformance README §3): 1 GiB, 1 MiB alignment, 10 MiB partitions.
describe("the MBR writer against DIB's MBR tables", () => {
  it("writes a signature and a disk id but no entries for zero partitions", () => {
    const { path } = writeAndRead(mbr([]));
    expect([...bytesAt(path, 510, 2)]).toEqual([0x55, 0xaa]);
    expect(bytesAt(path, 440, 4).readUInt32LE(0)).toBe(0x12345678);
    expect([...bytesAt(path, 446, 64)].every((b) => b === 0)).toBe(true);
  });

  it("puts one logical partition behind an extended container covering the rest of the disk", () => {
    expect(writeAndRead(mbr([tenMiB("l1", false)])).rows()).toEqual([
      "1 2048 2097151 0xf 0x0 dos",
      "5 4096 24575 0x83 0x0 dos",
    ]);
  });

  it("chains 64 logical partitions with a stride of 22528 sectors", () => {
    const parts = Array.from({ length: 64 }, (_, i) => tenMiB(`l${i}`, false));
    const expected = ["1 2048 2097151 0xf 0x0 dos"];
    for (let k = 1; k <= 64; k++) {
      const start = 4096 + (k - 1) * 22528;
      expected.push(`${k + 4} ${start} ${start + 20479} 0x83 0x0 dos`);
    }
    expect(writeAndRead(mbr(parts)).rows()).toEqual(expected);
  });

  it("writes one primary partition", () => {
    expect(writeAndRead(mbr([tenMiB("p1", true)])).rows()).toEqual(["1 2048 22527 0x83 0x0 dos"]);
  });

  it("writes three primary partitions back to back", () => {
    expect(
      writeAndRead(mbr([tenMiB("a", true), tenMiB("b", true), tenMiB("c", true)])).rows(),
    ).toEqual([
      "1 2048 22527 0x83 0x0 dos",
      "2 22528 43007 0x83 0x0 dos",
      "3 43008 63487 0x83 0x0 dos",
    ]);
  });

  it("writes three primary and seven logical partitions", () => {
    const parts = [tenMiB("a", true), tenMiB("b", true), tenMiB("c", true)];
    for (let i = 0; i < 7; i++) parts.push(tenMiB(`l${i}`, false));
    expect(writeAndRead(mbr(parts)).rows()).toEqual([
      "1 2048 22527 0x83 0x0 dos",
      "2 22528 43007 0x83 0x0 dos",
      "3 43008 63487 0x83 0x0 dos",
      "4 63488 2097151 0xf 0x0 dos",
      "5 65536 86015 0x83 0x0 dos",
      "6 88064 108543 0x83 0x0 dos",
      "7 110592 131071 0x83 0x0 dos",
      "8 133120 153599 0x83 0x0 dos",
      "9 155648 176127 0x83 0x0 dos",
      "10 178176 198655 0x83 0x0 dos",
      "11 200704 221183 0x83 0x0 dos",
    ]);
  });

  it("writes the type byte it is given", () => {
    expect(writeAndRead(mbr([tenMiB("p1", true, "0x0c")])).rows()).toEqual([
      "1 2048 22527 0xc 0x0 dos",
    ]);
  });
});

describe("the MBR writer byte for byte", () => {
  it("writes exactly what sfdisk writes for the same primary, extended and logical layout", () => {
    const config = mbr([
      { name: "a", size: "10MiB", flags: ["primary", "boot"] },
      { name: "b", size: "10MiB", flags: ["primary"], type: "c" },
      { name: "l1", size: "10MiB" },
      { name: "l2", size: "10MiB" },
    ]);
    const ours = writeAndRead(config).path;
    const theirs = sparseDisk(GiB);
    cleanup.push(theirs.remove);
    const script = [
      "label: dos",
      "label-id: 0x12345678",
      "start=2048, size=20480, type=83, bootable",
      "start=22528, size=20480, type=c",
      "start=43008, type=f",
      "start=45056, size=20480, type=83",
      "start=67584, size=20480, type=83",
    ].join("\n");
    execFileSync("sfdisk", ["-q", "--no-reread", "--no-tell-kernel", theirs.path], {
      input: script,
    });
    // The MBR from the disk id on, and both EBRs whole (sfdisk also puts an EBR one MiB before its data).
    for (const [offset, length] of [
      [440, 72],
      [43008 * 512, 512],
      [65536 * 512, 512],
    ] as const) {
      expect(bytesAt(ours, offset, length).toString("hex")).toBe(
        bytesAt(theirs.path, offset, length).toString("hex"),
      );
    }
  });

  it("encodes CHS the standard way on 255 heads and 63 sectors, unlike DIB", () => {
    expect(encodeChs(0)).toEqual([0, 1, 0]);
    expect(encodeChs(2048)).toEqual([32, 33, 0]);
    expect(encodeChs(22527)).toEqual([102, 37, 1]);
    // Cylinder 256..1023 keeps its high bits in the sector byte's top two bits.
    expect(encodeChs(300 * 255 * 63)).toEqual([0, 1 | 0x40, 300 & 0xff]);
    expect(encodeChs(1023 * 255 * 63 + 62)).toEqual([0, 63 | 0xc0, 0xff]);
    expect(encodeChs(1024 * 255 * 63)).toEqual([254, 0xff, 0xff]);
  });

  it("uses the disk's real sector size on a 4K disk, unlike DIB", () => {
    const config = mbr([
      { name: "boot", size: "8MiB", flags: ["primary", "boot"], type: "0x41" },
      { name: "root", size: "50%", flags: ["primary"] },
      { name: "data", size: "10MiB" },
    ]);
    const disk = sparseDisk(GiB);
    cleanup.push(disk.remove);
    applyDiskWrites(disk.path, mbrWrites(planMbr(config, GiB, 4096), 1));
    // partx reads the LBAs as 4096-byte sectors and prints 512-byte ones, like the plan.
    const layout = planPartitionLayout(config, GiB, 4096);
    expect(partxRows(disk.path, 4096)).toEqual([
      "1 2048 18431 0x41 0x80 dos",
      `2 18432 ${layout.partitions[1]?.end} 0x83 0x0 dos`,
      `3 ${layout.extended?.start} ${GiB / 512 - 1} 0xf 0x0 dos`,
      `5 ${layout.partitions[2]?.start} ${layout.partitions[2]?.end} 0x83 0x0 dos`,
    ]);
    const data = layout.partitions[2];
    expect(data && (data.end - data.start + 1) * 512).toBe(10 * 1024 * 1024);
    expect(data && data.start % 8).toBe(0);
  });
});
