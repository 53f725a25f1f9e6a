/** Byte order, as `LC_ALL=C sort` compares names: stable whatever the locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
