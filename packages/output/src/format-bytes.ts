const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * A byte count for people, in binary units with one decimal: `512 B`, `1.5 KiB`,
 * `182.0 MiB`, `5.0 GiB`. The one formatter for sizes dib prints (output files, free space,
 * what outputs need); the image usage report keeps `humanKiB`, which prints as DIB's
 * `numfmt` does.
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
