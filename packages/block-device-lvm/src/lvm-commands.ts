import type { PlannedLv, PlannedPv, PlannedVg } from "./lvm-layout.js";

/**
 * Without device-mapper, LVM only writes metadata: activation is switched off, and every
 * command sees only this build's devices (so a VG named `vg` on the host, or in another
 * build running beside this one, is neither found nor disturbed).
 */
export function metadataOnlyOptions(devices: readonly string[]): string[] {
  return ["--config", "global { activation = 0 }", "--devices", devices.join(",")];
}

export function pvcreateArgv(
  pv: PlannedPv,
  device: string,
  scope: readonly string[] = [],
): string[] {
  return ["pvcreate", ...scope, device, ...(pv.options ?? [])];
}

export function vgcreateArgv(
  vg: PlannedVg,
  devices: readonly string[],
  scope: readonly string[] = [],
): string[] {
  return ["vgcreate", ...scope, vg.name, ...devices, ...(vg.options ?? [])];
}

/** DIB's lvcreate: `--name LV [--type T] [--thin-pool P] (-V|-L) <bytes>B | -l <extents> [opts] VG`. */
export function lvcreateArgv(lv: PlannedLv, scope: readonly string[] = []): string[] {
  const argv = ["lvcreate", ...scope];
  // Metadata only: nothing to activate, and zeroing would need an active LV.
  if (scope.length > 0) argv.push("--activate", "n", "--zero", "n");
  argv.push("--name", lv.name);
  if (lv.type) argv.push("--type", lv.type);
  if (lv.thinPool) argv.push("--thin-pool", lv.thinPool);
  if (lv.bytes !== null) argv.push(lv.type === "thin" ? "-V" : "-L", `${lv.bytes}B`);
  else argv.push("-l", String(lv.extents));
  argv.push(...(lv.options ?? []), lv.vg);
  return argv;
}

/** The device-mapper node of an LV: dashes inside names are doubled, as dm does. */
export function mapperDevice(vg: string, lv: string): string {
  const doubled = (s: string) => s.replace(/-/g, "--");
  return `/dev/mapper/${doubled(vg)}-${doubled(lv)}`;
}

/** lvm's JSON reports in bytes, for finding where each LV lies on its PV. */
export function reportArgv(scope: readonly string[]): {
  pvs: string[];
  vgs: string[];
  segments: string[];
} {
  const common = ["--reportformat", "json", "--units", "b", "--nosuffix"];
  return {
    pvs: ["pvs", ...scope, ...common, "-o", "pv_name,pe_start"],
    vgs: ["vgs", ...scope, ...common, "-o", "vg_name,vg_extent_size"],
    segments: [
      "lvs",
      ...scope,
      ...common,
      "--segments",
      "-o",
      "vg_name,lv_name,segtype,seg_size_pe,seg_pe_ranges",
    ],
  };
}
