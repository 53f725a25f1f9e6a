#!/usr/bin/env node
// Keeps the publishing metadata of every workspace package in step with the root
// package.json, the one place it is written: licence, repository (with the package's
// directory), homepage, bugs and engines, plus a copy of the root LICENSE in each package
// folder (npm puts a package's own LICENSE in its tarball whatever `files` says). Every
// package's keywords name `diskimage-builder` (the rest are the package's own).
//
// usage: node scripts/package-metadata.mjs          write what differs
//        node scripts/package-metadata.mjs --check  list what differs and exit 1 (CI)
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const top = fileURLToPath(new URL("..", import.meta.url));
const check = process.argv.includes("--check");
const root = JSON.parse(readFileSync(join(top, "package.json"), "utf8"));
const licenseText = readFileSync(join(top, "LICENSE"), "utf8");
const { license, repository, homepage, bugs, engines } = root;
const KEYWORD = "diskimage-builder";

const listing = JSON.parse(
  execFileSync("pnpm", ["-r", "ls", "--depth", "-1", "--json"], { cwd: top, encoding: "utf8" }),
);
const drift = [];

for (const pkg of listing.filter(
  (p) => !p.private && p.path && p.path !== top.replace(/\/$/, ""),
)) {
  const file = join(pkg.path, "package.json");
  const text = readFileSync(file, "utf8");
  const json = JSON.parse(text);
  const directory = relative(top, pkg.path);
  const want = {
    license,
    repository: { ...repository, directory },
    homepage: `${homepage}/tree/main/${directory}#readme`,
    bugs,
    engines,
  };
  // Rebuild the object so the fields sit together after `description`, in one order.
  const out = {};
  for (const [key, value] of Object.entries(json)) {
    if (key in want) continue;
    out[key] = value;
    if (key === "description") Object.assign(out, want);
  }
  if (!("description" in json)) Object.assign(out, want);
  if (!out.keywords?.includes(KEYWORD)) out.keywords = [KEYWORD, ...(out.keywords ?? [])];
  const next = `${JSON.stringify(out, null, 2)}\n`;
  if (next !== text) {
    drift.push(`${directory}/package.json`);
    if (!check) writeFileSync(file, next);
  }
  const licenseFile = join(pkg.path, "LICENSE");
  if (!existsSync(licenseFile) || readFileSync(licenseFile, "utf8") !== licenseText) {
    drift.push(`${directory}/LICENSE`);
    if (!check) writeFileSync(licenseFile, licenseText);
  }
}

if (drift.length === 0) {
  process.stdout.write("package-metadata: every package is in step with the root\n");
} else if (check) {
  process.stderr.write(
    `package-metadata: ${drift.length} file(s) differ from the root package.json and LICENSE (or lack the ${KEYWORD} keyword):\n  ${drift.join("\n  ")}\nrun: node scripts/package-metadata.mjs\n`,
  );
  process.exit(1);
} else {
  process.stdout.write(`package-metadata: wrote ${drift.length} file(s)\n`);
}
