import { relative } from "node:path";
import type { Host } from "@dib/host";

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/**
 * A size in KiB the way `numfmt --to=iec-i --suffix=B --from-unit=1024` prints it: one
 * decimal below 10, whole numbers above, always rounded up.
 */
export function humanKiB(kib: number): string {
  if (kib * 1024 < 1024) return `${kib * 1024}B`;
  let value = kib;
  let unit = 0;
  for (;;) {
    const shown = value < 10 ? Math.ceil(value * 10) / 10 : Math.ceil(value);
    if (shown >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
      continue;
    }
    return `${shown < 10 ? shown.toFixed(1) : String(shown)}${UNITS[unit]}`;
  }
}

export interface DuEntry {
  kib: number;
  path: string;
}

/** Parses `du -a -c -x` output (`<KiB>\t<path>` lines, the last one `total`). */
export function parseDu(output: string): { entries: DuEntry[]; totalKiB: number } {
  const entries: DuEntry[] = [];
  let totalKiB = 0;
  for (const line of output.split("\n")) {
    const match = /^(\d+)\t(.*)$/.exec(line);
    if (!match) continue;
    const kib = Number(match[1]);
    if (match[2] === "total") totalKiB = kib;
    else entries.push({ kib, path: match[2] as string });
  }
  return { entries, totalKiB };
}

/**
 * DIB_SHOW_IMAGE_USAGE's report: largest first, sizes right-aligned in 7 columns, only
 * entries of 10 MiB or more unless `full`. Paths are shown relative to `root` when given.
 */
export function formatImageUsage(
  entries: readonly DuEntry[],
  options: { full?: boolean; root?: string } = {},
): string[] {
  const shown = [...entries]
    .filter((e) => options.full || humanKiB(e.kib).match(/^\d+MiB$|[GTPE]iB$/))
    .sort((a, b) => b.kib - a.kib || (a.path < b.path ? -1 : 1));
  const name = (p: string) => (options.root ? `/${relative(options.root, p)}` : p);
  return [
    options.full ? "Image size report" : "Image size report (files > 10MiB)",
    ...shown.map((e) => `${humanKiB(e.kib).padStart(7)} ${name(e.path)}`),
    "===== end image size report =====",
  ];
}

/** Runs `du` over the tree (one filesystem, 1 KiB blocks) and returns the report lines. */
export async function imageUsageReport(
  host: Host,
  tree: string,
  options: { full?: boolean } = {},
): Promise<{ lines: string[]; totalKiB: number }> {
  const du = await host.run(["du", "-a", "-c", "-x", tree]);
  const { entries, totalKiB } = parseDu(du.stdout);
  return { lines: formatImageUsage(entries, { full: options.full, root: tree }), totalKiB };
}
