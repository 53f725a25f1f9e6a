/**
 * Byte-wise comparison of two strings, as `LC_ALL=C sort` does its last-resort
 * comparison (JS `<` compares UTF-16 units, which differs above U+FFFF).
 */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

interface LeadingNumber {
  negative: boolean;
  /** The digits without leading zeros ("" for zero). */
  digits: string;
}

/**
 * The number GNU `sort -n` reads at the start of a line in the C locale: an optional
 * minus sign and decimal digits; a line without digits there (even "-x") counts as zero.
 * Fractions are ignored: run-parts names cannot contain a dot.
 */
function leadingNumber(line: string): LeadingNumber {
  const match = /^(-?)(\d+)/.exec(line);
  if (!match) return { negative: false, digits: "" };
  const digits = (match[2] ?? "").replace(/^0+/, "");
  return { negative: match[1] === "-" && digits !== "", digits };
}

function compareMagnitude(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNumbers(a: LeadingNumber, b: LeadingNumber): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const magnitude = compareMagnitude(a.digits, b.digits);
  return a.negative ? -magnitude : magnitude;
}

/**
 * The order of `LC_ALL=C sort -n`: the numeric value of the leading digits (arbitrary
 * length), then plain byte order for ties. So `5-a` < `10-b` < `100-c`, and `foo`
 * (value 0) sorts before `01-x`.
 */
export function compareSortN(a: string, b: string): number {
  return compareNumbers(leadingNumber(a), leadingNumber(b)) || compareBytes(a, b);
}
