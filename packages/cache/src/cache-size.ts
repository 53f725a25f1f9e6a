import { DibError } from "@dib/host";

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** The default ceiling of the stage store: a handful of trees of a typical image. */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;

/** Parses DIB_IMAGE_CACHE_MAX: bytes, or a number with K, M, G or T (binary units). */
export function parseCacheMax(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return DEFAULT_CACHE_MAX_BYTES;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) {
    throw new DibError("DIB_BAD_CACHE_MAX", `DIB_IMAGE_CACHE_MAX=${text} is not a size`, {
      hint: "give bytes or a number with K, M, G or T, e.g. DIB_IMAGE_CACHE_MAX=20G",
    });
  }
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "").toUpperCase()] ?? 1));
}
