#!/usr/bin/env node
// Packs every publishable workspace package the way `pnpm publish` would and fails when an
// element's hook script lost its executable bit in the tarball (DIB's runner skips such
// scripts silently) or has no LICENSE. Usage: node scripts/check-pack.mjs [DEST_DIR]  (prints the tarballs; without
// DEST_DIR they go to a temporary directory that is removed at the end)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HOOK_DIRS =
  /^package\/(root|extra-data|pre-install|install|post-install|post-root|block-device|pre-finalise|finalise|cleanup)\.d\/[^/]+$/;

const keep = process.argv[2] !== undefined;
const dest = process.argv[2] ?? mkdtempSync(join(tmpdir(), "dib-pack-"));
const listing = JSON.parse(
  execFileSync("pnpm", ["-r", "ls", "--depth", "-1", "--json"], { encoding: "utf8" }),
);
const packages = listing.filter((p) => !p.private && p.path);
let failures = 0;
for (const pkg of packages) {
  execFileSync("pnpm", ["pack", "--pack-destination", dest], { cwd: pkg.path, stdio: "ignore" });
}
for (const tarball of readdirSync(dest).filter((f) => f.endsWith(".tgz"))) {
  const lines = execFileSync("tar", ["-tvzf", join(dest, tarball)], { encoding: "utf8" }).split(
    "\n",
  );
  // `tar -tv` lines: mode, owner/group, size, date, time, then the name (which may hold spaces).
  const entries = lines
    .filter((line) => line !== "")
    .map((line) => {
      const fields = line.split(/\s+/);
      return { mode: fields[0] ?? "", name: fields.slice(5).join(" ") };
    });
  if (!entries.some((e) => e.name === "package/LICENSE")) {
    process.stderr.write(`${tarball}: no LICENSE (run node scripts/package-metadata.mjs)\n`);
    failures++;
  }
  for (const { mode, name } of entries) {
    if (!HOOK_DIRS.test(name) || mode.startsWith("d")) continue;
    if (!/x/.test(mode)) {
      process.stderr.write(`${tarball}: ${name} is not executable in the tarball\n`);
      failures++;
    }
  }
  if (keep) process.stdout.write(`${join(dest, tarball)}\n`);
}
if (!keep) {
  rmSync(dest, { recursive: true, force: true });
  process.stdout.write(`check-pack: ${packages.length} packages packed\n`);
}
if (failures > 0) {
  process.stderr.write(`check-pack: ${failures} problem(s) in the tarballs\n`);
  process.exit(1);
}
