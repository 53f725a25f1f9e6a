import { compareNames } from "./compare-names.js";

/** Levenshtein distance: insertions, deletions and substitutions each cost one. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Names a person probably meant when they typed `wanted`: those within a few edits
 * (about a third of its length), then those that start with it (`debian` → `debian-minimal`).
 */
export function closeNames(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = Math.max(1, Math.floor(wanted.length / 3));
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(candidates)) {
    if (name === wanted) continue;
    const distance = editDistance(wanted.toLowerCase(), name.toLowerCase());
    if (distance <= threshold) scored.push({ name, score: distance });
    else if (name.startsWith(wanted) && wanted.length >= 3)
      scored.push({ name, score: threshold + 1 });
  }
  return scored
    .sort((a, b) => a.score - b.score || compareNames(a.name, b.name))
    .slice(0, limit)
    .map((s) => s.name);
}
