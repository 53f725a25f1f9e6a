import { blockDeviceConfigError } from "./config-error.js";

/** DIB's units: the IEC ones are powers of 1024, the SI ones and the bare letters of 1000. */
const UNITS: Readonly<Record<string, number>> = {
  TiB: 1024 ** 4,
  GiB: 1024 ** 3,
  MiB: 1024 ** 2,
  KiB: 1024,
  TB: 1000 ** 4,
  GB: 1000 ** 3,
  MB: 1000 ** 2,
  KB: 1000,
  T: 1000 ** 4,
  G: 1000 ** 3,
  M: 1000 ** 2,
  K: 1000,
  B: 1,
  "": 1,
};

const SIZE_SPEC = /^([\d.]*) ?([a-zA-Z0-9_]*)$/;
const UNIT_HINT =
  "units are TiB GiB MiB KiB (1024^n), TB GB MB KB T G M K (1000^n) and B; they are case-sensitive";

function parseNumber(text: string, spec: string): number {
  // An empty number means one unit ("MiB" is 1 MiB), as in DIB.
  if (text === "") return 1;
  if (!/^(\d+\.?\d*|\.\d+)$/.test(text)) {
    throw blockDeviceConfigError(`Invalid size unit spec [${spec}]`, { hint: UNIT_HINT });
  }
  return Number(text);
}

/**
 * Parses an absolute size such as `8MiB`, `40G`, `1.5 GiB` or `512` into bytes (§5.5). A
 * plain number (a YAML integer) is bytes.
 */
export function parseAbsoluteSize(spec: string | number): number {
  if (typeof spec === "number") {
    if (!Number.isFinite(spec) || spec < 0) {
      throw blockDeviceConfigError(`Invalid size unit spec [${spec}]`, { hint: UNIT_HINT });
    }
    return Math.trunc(spec);
  }
  const match = SIZE_SPEC.exec(spec);
  if (!match) throw blockDeviceConfigError(`Invalid size unit spec [${spec}]`, { hint: UNIT_HINT });
  const [, num = "", unit = ""] = match;
  const factor = UNITS[unit];
  if (factor === undefined) {
    throw blockDeviceConfigError(`unit_str [${unit}] not known`, { hint: UNIT_HINT });
  }
  return Math.trunc(factor * parseNumber(num, spec));
}

export interface ParsedSize {
  /** The spec was a percentage of `remaining`. */
  relative: boolean;
  bytes: number;
}

/**
 * Parses a partition size: an absolute size, or `N%` of `remaining` (the space still free
 * at that point, as DIB computes it), truncated to whole bytes.
 */
export function parseRelativeSize(spec: string | number, remaining: number): ParsedSize {
  if (typeof spec === "string" && spec.endsWith("%")) {
    const pct = spec.slice(0, -1).trim();
    if (!/^(\d+\.?\d*|\.\d+)$/.test(pct)) {
      throw blockDeviceConfigError(`Invalid size unit spec [${spec}]`, {
        hint: "a percentage is a number followed by %, e.g. 100%",
      });
    }
    return { relative: true, bytes: Math.trunc((remaining * Number(pct)) / 100) };
  }
  return { relative: false, bytes: parseAbsoluteSize(spec) };
}
