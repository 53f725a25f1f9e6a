import { parseAbsoluteSize } from "@dib/block-device";
import { DibError } from "@dib/host";
import { pythonRepr } from "./python-repr.js";
import type { LvmConfig } from "./schema.js";

const FOUR_MiB = 4 * 1024 * 1024;
const LV_TYPES = ["thin", "thin-pool"] as const;
export type LvType = (typeof LV_TYPES)[number];

export interface PlannedPv {
  name: string;
  /** The block device node it is made on (a partition). */
  base: string;
  options: string[] | null;
}

export interface PlannedVg {
  name: string;
  /** The names of its physical volumes, in order. */
  pvs: string[];
  options: string[] | null;
}

export interface PlannedLv {
  name: string;
  vg: string;
  /** Bytes rounded down to 4 MiB (`-L`/`-V`), when the config gives a size. */
  bytes: number | null;
  /** The config's own `size` and `extents`, as DIB records them in the state. */
  size: string | number | null;
  extents: string | number | null;
  type: LvType | null;
  thinPool: string | null;
  options: string[] | null;
}

/** An `lvm` entry checked and resolved: everything create needs, in config order. */
export interface LvmLayout {
  name: string;
  pvs: PlannedPv[];
  vgs: PlannedVg[];
  lvs: PlannedLv[];
}

function configError(message: string, hint?: string): DibError {
  return new DibError("DIB_BLOCK_DEVICE_CONFIG", message, hint ? { hint } : {});
}

/** DIB's checks of an `lvm` entry, with its messages, plus the ones it forgot (thin pools). */
export function lvmLayout(config: LvmConfig): LvmLayout {
  const pvs: PlannedPv[] = config.pvs.map((pv) => ({
    name: pv.name,
    base: pv.base,
    options: pv.options ?? null,
  }));
  const pvNames = new Set(pvs.map((p) => p.name));

  const vgs: PlannedVg[] = config.vgs.map((vg) => {
    if (vg.base === undefined) throw configError("Missing 'base' in vgs config");
    const members = typeof vg.base === "string" ? [vg.base] : vg.base;
    for (const pv of members) {
      if (!pvNames.has(pv)) {
        throw configError(
          `base:${pv} in vgs does not match a valid pvs`,
          `pvs: ${[...pvNames].join(", ")}`,
        );
      }
    }
    return { name: vg.name, pvs: members, options: vg.options ?? null };
  });
  const vgNames = new Set(vgs.map((v) => v.name));

  const lvs: PlannedLv[] = [];
  for (const lv of config.lvs) {
    if (lv.base === undefined) throw configError("Missing 'base' in lvs config");
    if (typeof lv.base !== "string" || !vgNames.has(lv.base)) {
      throw configError(
        `base:${typeof lv.base === "string" ? lv.base : pythonRepr(lv.base)} in lvs does not match a valid vg`,
        `vgs: ${[...vgNames].join(", ")}`,
      );
    }
    if (lv.size === undefined && lv.extents === undefined) {
      throw configError(
        "Missing 'size' or 'extents' in lvs config",
        `lv '${lv.name}': give a size such as 1800M or extents such as 40%VG`,
      );
    }
    if (lv.type !== undefined && !(LV_TYPES as readonly string[]).includes(lv.type)) {
      throw configError(`Unsupported type:${lv.type}, supported types: ${LV_TYPES.join(", ")}`);
    }
    const type = (lv.type ?? null) as LvType | null;
    const thinPool = lv["thin-pool"] ?? null;
    if (type === "thin") {
      const pool = lvs.find((l) => l.name === thinPool);
      if (pool?.type !== "thin-pool" || pool.vg !== lv.base) {
        throw configError(
          `lv '${lv.name}' of type thin needs 'thin-pool': a thin-pool LV of vg '${lv.base}' listed before it`,
        );
      }
    }
    const bytes =
      lv.size === undefined ? null : Math.floor(parseAbsoluteSize(lv.size) / FOUR_MiB) * FOUR_MiB;
    lvs.push({
      name: lv.name,
      vg: lv.base,
      bytes,
      size: lv.size ?? null,
      extents: lv.extents ?? null,
      type,
      thinPool,
      options: lv.options ?? null,
    });
  }
  return { name: config.name, pvs, vgs, lvs };
}
