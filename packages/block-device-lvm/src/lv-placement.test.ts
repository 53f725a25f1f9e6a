import { describe, expect, it } from "vitest";
import { lvPlacements } from "./lv-placement.js";

const report = (kind: string, rows: Record<string, string>[]) =>
  JSON.stringify({ report: [{ [kind]: rows }] });
const pvs = report("pv", [
  { pv_name: "/dev/loop0p3", pe_start: "1048576" },
  { pv_name: "/dev/loop0p4", pe_start: "1048576" },
]);
const vgs = report("vg", [{ vg_name: "vg", vg_extent_size: "4194304" }]);

describe("where LVs lie on their PVs", () => {
  it("finds each linear LV's offset from its PV's first extent", () => {
    const segments = report("seg", [
      {
        vg_name: "vg",
        lv_name: "lv_root",
        segtype: "linear",
        seg_size_pe: "114",
        seg_pe_ranges: "/dev/loop0p3:0-113",
      },
      {
        vg_name: "vg",
        lv_name: "lv_var",
        segtype: "linear",
        seg_size_pe: "284",
        seg_pe_ranges: "/dev/loop0p3:114-397",
      },
    ]);
    expect(lvPlacements({ pvs, vgs, segments }, [{ vg: "vg", lv: "lv_var" }])).toEqual([
      {
        vg: "vg",
        lv: "lv_var",
        pvDevice: "/dev/loop0p3",
        offset: 1048576 + 114 * 4194304,
        size: 284 * 4194304,
      },
    ]);
  });

  it("refuses an LV that spans two PVs: that needs device-mapper", () => {
    const segments = report("seg", [
      {
        vg_name: "vg",
        lv_name: "big",
        segtype: "linear",
        seg_size_pe: "49",
        seg_pe_ranges: "/dev/loop0p3:0-48",
      },
      {
        vg_name: "vg",
        lv_name: "big",
        segtype: "linear",
        seg_size_pe: "26",
        seg_pe_ranges: "/dev/loop0p4:0-25",
      },
    ]);
    expect(() => lvPlacements({ pvs, vgs, segments }, [{ vg: "vg", lv: "big" }])).toThrow(
      expect.objectContaining({
        code: "DIB_LVM_NEEDS_DEVICE_MAPPER",
        message: expect.stringMatching(/split into 2 segments.*device-mapper/),
      }),
    );
  });

  it("refuses a striped LV", () => {
    const segments = report("seg", [
      {
        vg_name: "vg",
        lv_name: "s",
        segtype: "striped",
        seg_size_pe: "4",
        seg_pe_ranges: "/dev/loop0p3:0-1 /dev/loop0p4:0-1",
      },
    ]);
    expect(() => lvPlacements({ pvs, vgs, segments }, [{ vg: "vg", lv: "s" }])).toThrow(
      /striped volume/,
    );
  });
});
