import { DibError } from "@dib/host";

/** Where an LV's one linear segment lies on its PV, in bytes from the PV's start. */
export interface LvPlacement {
  vg: string;
  lv: string;
  pvDevice: string;
  offset: number;
  size: number;
}

type Rows = Record<string, string>[];

/** The rows of one lvm `--reportformat json` report (`pv`, `vg` or `seg`). */
function reportRows(json: string, kind: "pv" | "vg" | "seg"): Rows {
  const parsed = JSON.parse(json) as { report?: Record<string, Rows>[] };
  return parsed.report?.flatMap((r) => r[kind] ?? []) ?? [];
}

export function needsDeviceMapper(reason: string): DibError {
  return new DibError(
    "DIB_LVM_NEEDS_DEVICE_MAPPER",
    `${reason}: that needs device-mapper, which this host does not have`,
    {
      hint: "build this layout on a host with device-mapper (modprobe dm_mod; /dev/mapper/control must work), or make each LV fit on one PV",
    },
  );
}

/**
 * Reads where each wanted LV lies from lvm's reports. Only an LV made of one linear
 * segment on one PV can be reached without device-mapper; anything else is refused.
 */
export function lvPlacements(
  reports: { pvs: string; vgs: string; segments: string },
  wanted: readonly { vg: string; lv: string }[],
): LvPlacement[] {
  const peStart = new Map(
    reportRows(reports.pvs, "pv").map((r) => [r.pv_name, Number(r.pe_start)]),
  );
  const extentSize = new Map(
    reportRows(reports.vgs, "vg").map((r) => [r.vg_name, Number(r.vg_extent_size)]),
  );
  const segments = reportRows(reports.segments, "seg");
  return wanted.map(({ vg, lv }) => {
    const own = segments.filter((s) => s.vg_name === vg && s.lv_name === lv);
    if (own.length === 0) {
      throw new DibError("DIB_LVM_STATE", `lvs does not list ${vg}/${lv} after creating it`);
    }
    const [segment] = own;
    const ranges = segment?.seg_pe_ranges?.trim().split(/\s+/) ?? [];
    if (own.length > 1 || segment?.segtype !== "linear" || ranges.length !== 1) {
      throw needsDeviceMapper(
        `LV ${vg}/${lv} is ${own.length > 1 ? `split into ${own.length} segments` : `a ${segment?.segtype} volume`}`,
      );
    }
    const match = /^(.*):(\d+)-(\d+)$/.exec(ranges[0] ?? "");
    const extent = extentSize.get(vg);
    const start = match ? peStart.get(match[1] ?? "") : undefined;
    if (!match || extent === undefined || start === undefined) {
      throw new DibError(
        "DIB_LVM_STATE",
        `cannot read where ${vg}/${lv} lies from lvs (${ranges[0]})`,
      );
    }
    const first = Number(match[2]);
    const last = Number(match[3]);
    return {
      vg,
      lv,
      pvDevice: match[1] ?? "",
      offset: start + first * extent,
      size: (last - first + 1) * extent,
    };
  });
}
