#!/usr/bin/env node
// Packs every publishable workspace package the way `pnpm publish` would and checks the
// tarballs themselves, as a user would install them:
//   - each has its LICENSE;
//   - every element hook script keeps its executable bit (DIB's runner skips such scripts
//     silently);
//   - publint, strict (its warnings and suggestions fail too);
//   - arethetypeswrong with the CLI's `--profile esm-only` on each tarball that ships type
//     declarations (the libraries and dib-cli; elements ship only hooks and package.json).
// Both linters run in this one process over the tarballs already packed: starting the CLIs
// once per package costs minutes in CI, this costs seconds.
//
// Usage: node scripts/check-pack.mjs [DEST_DIR]  (prints the tarballs; without DEST_DIR they
// go to a temporary directory that is removed at the end)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getExitCode } from "@arethetypeswrong/cli/internal/getExitCode";
import { typed } from "@arethetypeswrong/cli/internal/render";
import * as attw from "@arethetypeswrong/core";
import { HOOK_PHASES } from "@dib/elements";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

/** What `attw --profile esm-only` ignores: these packages are ESM-only on purpose. */
const ATTW_OPTIONS = { ignoreResolutions: ["node10", "node16-cjs"], format: "ascii", emoji: false };
const HOOK_DIRS = new Set(HOOK_PHASES);

const started = Date.now();
const keep = process.argv[2] !== undefined;
const dest = process.argv[2] ?? mkdtempSync(join(tmpdir(), "dib-pack-"));
const listing = JSON.parse(
  execFileSync("pnpm", ["-r", "ls", "--depth", "-1", "--json"], { encoding: "utf8" }),
);
const packages = listing.filter((p) => !p.private && p.path);
const problems = [];

/** Packs one package and returns its tarball's path (pnpm prints it last). */
function pack(dir) {
  const printed = execFileSync("pnpm", ["pack", "--pack-destination", dest], {
    cwd: dir,
    encoding: "utf8",
  });
  return printed.trim().split("\n").at(-1);
}

/** The LICENSE and the hook scripts' executable bits, from `tar -tv`. */
function checkEntries(tarball, label) {
  const lines = execFileSync("tar", ["-tvzf", tarball], { encoding: "utf8" }).split("\n");
  // `tar -tv` lines: mode, owner/group, size, date, time, then the name (which may hold spaces).
  const entries = lines
    .filter((line) => line !== "")
    .map((line) => {
      const fields = line.split(/\s+/);
      return { mode: fields[0] ?? "", name: fields.slice(5).join(" ") };
    });
  if (!entries.some((e) => e.name === "package/LICENSE")) {
    problems.push(`${label}: no LICENSE (run node scripts/package-metadata.mjs)`);
  }
  for (const { mode, name } of entries) {
    const [top, dir, script, ...deeper] = name.split("/");
    const isHook = top === "package" && HOOK_DIRS.has(dir) && script && deeper.length === 0;
    if (isHook && !mode.startsWith("d") && !/x/.test(mode)) {
      problems.push(`${label}: ${name} is not executable in the tarball`);
    }
  }
}

/** publint over the tarball's own files; returns its package.json as publint read it. */
async function checkPublint(data, label) {
  const { messages, pkg } = await publint({ pack: { tarball: data.buffer }, strict: true });
  for (const message of messages) {
    problems.push(
      `${label}: publint ${message.type}: ${formatMessage(message, pkg, { color: false })}`,
    );
  }
  return pkg;
}

/** True when the package declares type declarations anywhere attw would look for them. */
function shipsTypes(pkg) {
  return (
    JSON.stringify(pkg.exports ?? {}).includes('"types"') || "types" in pkg || "typings" in pkg
  );
}

async function checkTypes(data, label) {
  const analysis = await attw.checkPackage(attw.createPackageFromTarballData(data));
  if (getExitCode(analysis, ATTW_OPTIONS) !== 0) {
    problems.push(`${label}: arethetypeswrong (esm-only):\n${await typed(analysis, ATTW_OPTIONS)}`);
  }
}

const tarballs = packages.map((p) => pack(p.path));
const packed = Date.now();
let withTypes = 0;
await Promise.all(
  tarballs.map(async (tarball) => {
    const label = tarball.slice(dest.length).replace(/^\//, "");
    checkEntries(tarball, label);
    const data = new Uint8Array(readFileSync(tarball));
    const pkg = await checkPublint(data, label);
    if (shipsTypes(pkg)) {
      withTypes++;
      await checkTypes(data, label);
    }
  }),
);
if (keep) process.stdout.write(`${tarballs.join("\n")}\n`);
else rmSync(dest, { recursive: true, force: true });
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;
process.stdout.write(
  `check-pack: ${tarballs.length} packages packed in ${seconds(packed - started)}; publint on all, arethetypeswrong on the ${withTypes} with types, in ${seconds(Date.now() - packed)}\n`,
);
if (problems.length > 0) {
  process.stderr.write(
    `${problems.sort().join("\n")}\ncheck-pack: ${problems.length} problem(s) in the tarballs\n`,
  );
  process.exit(1);
}
