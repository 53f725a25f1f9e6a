import { createHash } from "node:crypto";

/** The index a mirror serves for one suite, as fetched for this build. */
export interface MirrorIndex {
  /** The URL the index came from. */
  url: string;
  /** sha256 of its bytes: a new upload to the mirror changes it. */
  digest: string;
}

export interface MirrorSource {
  /** The archive root, e.g. `http://deb.debian.org/debian`. */
  mirror: string;
  /** Suites whose `dists/<suite>/InRelease` is read; none: a flat repository (`MIRROR/InRelease`). */
  suites: readonly string[];
}

/** Where to look for one suite's index, in order: the signed InRelease, then Release. */
export function indexUrls(mirror: string, suite: string | undefined): string[] {
  const base = mirror.replace(/\/+$/, "");
  const dir = suite === undefined ? base : `${base}/dists/${suite}`;
  return [`${dir}/InRelease`, `${dir}/Release`];
}

async function fetchOne(url: string, timeoutMs: number): Promise<MirrorIndex | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const body = Buffer.from(await response.arrayBuffer());
    return { url, digest: createHash("sha256").update(body).digest("hex") };
  } catch {
    return undefined;
  }
}

/**
 * Fetches the current index of every suite of a mirror (a few KiB each). Returns why
 * not instead when one cannot be read: without it a stage cannot be keyed safely.
 */
export async function fetchMirrorIndexes(
  source: MirrorSource,
  options: { timeoutMs?: number } = {},
): Promise<{ indexes: MirrorIndex[] } | { unavailable: string }> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const suites = source.suites.length === 0 ? [undefined] : source.suites;
  const indexes: MirrorIndex[] = [];
  for (const suite of suites) {
    let found: MirrorIndex | undefined;
    for (const url of indexUrls(source.mirror, suite)) {
      found = await fetchOne(url, timeoutMs);
      if (found) break;
    }
    if (!found) {
      return { unavailable: `could not read ${indexUrls(source.mirror, suite)[0]}` };
    }
    indexes.push(found);
  }
  return { indexes };
}
