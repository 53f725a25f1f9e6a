import { isAtOrBelow, type Ledger, mountsBelow } from "@dib/host";

/**
 * Unmounts what element hooks left mounted strictly below `dir` (a bind mount of an apt
 * cache, a tmpfs on /tmp …), leaving `keep` — the image's own filesystems — and anything
 * below those. Each one goes through the ledger (recorded, then released), so even this
 * clean-up is on record if it is interrupted. Returns the mount points it unmounted.
 */
export async function unmountBelow(
  ledger: Ledger,
  dir: string,
  keep: readonly string[] = [],
): Promise<string[]> {
  const done: string[] = [];
  const spared = (target: string) =>
    target === dir || keep.some((k) => isAtOrBelow(target, k) || isAtOrBelow(k, target));
  for (;;) {
    const next = mountsBelow(dir).find((m) => !spared(m.target));
    if (!next) return done;
    const held = await ledger.acquire({ kind: "mount", target: next.target }, async () => ({}));
    await ledger.release(held.seq);
    done.push(next.target);
  }
}
