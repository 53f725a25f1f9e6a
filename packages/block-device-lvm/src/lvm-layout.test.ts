import { describe, expect, it } from "vitest";
import { lvmEntry } from "./__fixtures__/conformance.js";
import { lvmLayout } from "./lvm-layout.js";
import { type LvmConfig, lvmSchema } from "./schema.js";

const config = (name = "lvm_graph") => lvmSchema.parse(lvmEntry(name)) as LvmConfig;

describe("lvm config checks (DIB's messages)", () => {
  it("needs name, pvs, vgs and lvs", () => {
    const messages = (entry: Record<string, unknown>) =>
      lvmSchema.safeParse(entry).error?.issues.map((i) => i.message);
    const full = lvmEntry("lvm_graph");
    const without = (key: string) =>
      Object.fromEntries(Object.entries(full).filter(([k]) => k !== key));
    expect(messages(without("name"))).toEqual(["Lvm config requires 'name'"]);
    expect(messages(without("pvs"))).toEqual(["Lvm config requires a 'pvs'"]);
    expect(messages(without("vgs"))).toEqual(["Lvm config needs 'vgs'"]);
    expect(messages(without("lvs"))).toEqual(["Lvm config needs 'lvs'"]);
  });

  it("needs a name and a base on every pv", () => {
    const entry = lvmEntry("lvm_graph");
    const messages = (pv: Record<string, unknown>) =>
      lvmSchema.safeParse({ ...entry, pvs: [pv] }).error?.issues.map((i) => i.message);
    expect(messages({ base: "root" })).toEqual(["Missing 'name' in pvs config"]);
    expect(messages({ name: "pv" })).toEqual(["Missing 'base' in pvs_config"]);
  });

  it("refuses a vg on a pv that does not exist", () => {
    const c = config();
    c.vgs[0] = { ...c.vgs[0], name: "vg", base: ["invalid_pv"] };
    expect(() => lvmLayout(c)).toThrow("base:invalid_pv in vgs does not match a valid pvs");
  });

  it("names a list given as an lv's base the way Python prints it", () => {
    const c = config();
    c.lvs[0] = { ...c.lvs[0], name: "lv_root", base: ["invalid_vg"] };
    expect(() => lvmLayout(c)).toThrow("base:['invalid_vg'] in lvs does not match a valid vg");
  });

  it("refuses an lv with neither size nor extents", () => {
    const c = config();
    const { size: _size, ...rest } = c.lvs[0] ?? { name: "x" };
    c.lvs[0] = rest;
    expect(() => lvmLayout(c)).toThrow("Missing 'size' or 'extents' in lvs config");
  });

  it("refuses an unknown lv type", () => {
    const c = config("lvm_tree_thin_provision");
    c.lvs[0] = { ...c.lvs[0], name: "lv_thinpool", type: "thin-pol" };
    expect(() => lvmLayout(c)).toThrow(
      "Unsupported type:thin-pol, supported types: thin, thin-pool",
    );
  });

  it("refuses a thin lv whose pool is not a thin-pool listed before it", () => {
    const c = config("lvm_tree_thin_provision");
    c.lvs[1] = { ...c.lvs[1], name: "lv_root", "thin-pool": "lv_nopool" };
    expect(() => lvmLayout(c)).toThrow("of type thin needs 'thin-pool'");
  });

  it("rounds sizes down to a multiple of 4 MiB and keeps the config's own strings", () => {
    const layout = lvmLayout(config());
    expect(layout.lvs.map((l) => [l.name, l.bytes, l.size])).toEqual([
      ["lv_root", 1799356416, "1800M"],
      ["lv_tmp", 96468992, "100M"],
      ["lv_var", 499122176, "500M"],
      ["lv_log", 96468992, "100M"],
      ["lv_audit", 96468992, "100M"],
      ["lv_home", 197132288, "200M"],
    ]);
  });

  it("accepts every lvm entry of DIB's test configs", () => {
    for (const name of [
      "lvm_graph",
      "lvm_tree",
      "lvm_tree_multiple_pv",
      "lvm_tree_multiple_partitions",
      "lvm_tree_thin_provision",
      "lvm_tree_partition_ordering",
    ]) {
      expect(() => lvmLayout(config(name)), name).not.toThrow();
    }
  });
});
