import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";

/** One element as the build resolved it: its name and the folder its files come from. */
export interface ElementSource {
  name: string;
  dir: string;
}

/**
 * Folders an element package may hold that are never part of what runs: npm's (a
 * workspace element links its dependencies there, which would be walked twice) and VCS.
 */
const NEVER_RUN = new Set(["node_modules", ".git"]);

function digest(...parts: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(typeof p === "string" ? Buffer.from(p) : p);
    h.update("\0");
  }
  return h.digest("hex");
}

/**
 * A digest of every file of one element that can change a stage, by path relative to
 * the element: the content, whether it is executable (dib-run-parts skips what is not),
 * and for a link both where it points and what it leads to. Top-level folders in
 * `skipTopLevel` (the hook phases that run after the stage) are left out, so editing a
 * finalise.d script does not invalidate the tree after post-install.d.
 */
export function elementFileDigests(
  element: ElementSource,
  skipTopLevel: ReadonlySet<string>,
): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string, depth: number) => {
    for (const name of readdirSync(dir).sort()) {
      if (NEVER_RUN.has(name)) continue;
      if (depth === 0 && skipTopLevel.has(name)) continue;
      const path = join(dir, name);
      const relPath = rel === "" ? name : `${rel}/${name}`;
      const l = lstatSync(path);
      if (l.isSymbolicLink()) {
        const target = readlinkSync(path);
        const s = statSync(path, { throwIfNoEntry: false });
        if (s?.isFile()) {
          out.set(relPath, digest("link", target, exec(s.mode), readFileSync(path)));
        } else if (s?.isDirectory() && depth < 8) {
          out.set(relPath, digest("link-dir", target));
          walk(path, relPath, depth + 1);
        } else {
          out.set(relPath, digest("link", target));
        }
      } else if (l.isDirectory()) {
        walk(path, relPath, depth + 1);
      } else if (l.isFile()) {
        out.set(relPath, digest("file", exec(l.mode), readFileSync(path)));
      } else {
        out.set(relPath, digest("special", String(l.mode)));
      }
    }
  };
  walk(element.dir, "", 0);
  return out;
}

function exec(mode: number): string {
  return mode & 0o111 ? "x" : "-";
}

export { digest as partsDigest };
