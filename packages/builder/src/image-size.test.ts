import { describe, expect, it } from "vitest";
import { computeImageSize, parseDuTotal } from "./image-size.js";

const base = {
  rootFsType: "ext4",
  journalSizeMb: 64,
  imageElements: ["debian-minimal"],
  mkfsOptions: "",
};

describe("computeImageSize", () => {
  it("gives the measured tree 67% headroom, adds the ext4 journal and rounds up to 64 KiB", () => {
    expect(computeImageSize({ ...base, measuredKiB: 600000 }).sizeKiB).toBe(1065536);
    expect(computeImageSize({ ...base, measuredKiB: 123457 }).sizeKiB).toBe(271360);
  });

  it("adds the extra MiB instead of the /0.6 headroom when an extra size is given", () => {
    expect(computeImageSize({ ...base, measuredKiB: 100000, imageExtraSizeMb: 512 }).sizeKiB).toBe(
      689856,
    );
  });

  it("uses a requested size in GB as it is, fractional too, without adding the journal", () => {
    expect(computeImageSize({ ...base, imageSizeGb: 1.5 }).sizeKiB).toBe(1572864);
    expect(computeImageSize({ ...base, imageSizeGb: 0.1 }).sizeKiB).toBe(104896);
  });

  it("adds no journal and no ext4 options for other filesystems", () => {
    const size = computeImageSize({ ...base, rootFsType: "xfs", measuredKiB: 123457 });
    expect(size.sizeKiB).toBe(205824);
    expect(size.mkfsOptions).toBe("");
  });

  it("pads 525 MiB when any element name contains block-device-efi", () => {
    const efi = { ...base, imageElements: ["vm", "block-device-efi-lvm"] };
    expect(computeImageSize({ ...efi, imageSizeGb: 2 }).sizeKiB).toBe(2634752);
    expect(computeImageSize({ ...efi, rootFsType: "xfs", measuredKiB: 1 }).sizeKiB).toBe(537664);
  });

  it("prepends the inode ratio and journal size to the root mkfs options for ext4", () => {
    const size = computeImageSize({
      ...base,
      measuredKiB: 1000,
      journalSizeMb: 32,
      mkfsOptions: "-m 1",
    });
    expect(size.mkfsOptions).toBe("-i 4096 -J size=32 -m 1");
  });

  it("turns off metadata_csum for trusty and puts the online-resize limit first", () => {
    const size = computeImageSize({
      ...base,
      measuredKiB: 1000,
      release: "trusty",
      maxOnlineResize: 1024,
    });
    expect(size.mkfsOptions).toBe("-E resize=1024 -O ^metadata_csum -i 4096 -J size=64");
  });

  it("refuses to guess when there is neither a requested nor a measured size", () => {
    expect(() => computeImageSize(base)).toThrow(/measuredKiB/);
  });
});

describe("parseDuTotal", () => {
  it("reads the total from du's last line", () => {
    expect(parseDuTotal("12\t/x/a\n40\t/x\n40\ttotal\n")).toBe(40);
  });
});
