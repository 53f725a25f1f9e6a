import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isRoot, rootOnlyReason, runCli, seedBootstrapCache, testImageCache } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = join(repo, "packages/builder/src/__fixtures__/elements");
/** Shared between test runs, so builds after the first do not download again. */
const cache = testImageCache;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
}

function heldBelow(dir: string): string[] {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir));
  const loops = sh("losetup", ["--list", "--noheadings", "-O", "BACK-FILE"])
    .split("\n")
    .map((l) => l.trim())
    .filter((f) => f.startsWith(dir));
  return [...mounts, ...loops];
}

describe.runIf(isRoot)(`dib-cli build debian-minimal${rootOnlyReason}`, () => {
  let work: string;

  beforeAll(() => {
    seedBootstrapCache(cache);
    work = mkdtempSync(join(tmpdir(), "dib-e2e-build-"));
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("builds a tar whose markers show every phase in order, of the release asked for", async () => {
    const tmpDir = join(work, "tmp");
    const result = await runCli(
      [
        "build",
        "-t",
        "tar",
        "-o",
        join(work, "out"),
        "--json",
        "debian-minimal",
        "dib-test-markers",
      ],
      {
        env: {
          ELEMENTS_PATH: `${fixtures}:${join(repo, "elements")}`,
          DIB_IMAGE_CACHE: cache,
          DIB_RELEASE: "bookworm",
          TMP_DIR: tmpDir,
        },
      },
    );
    expect(result.stderr).not.toMatch(/^error /m);
    expect(result.exitCode).toBe(0);
    const events = String(result.stdout)
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { type: string; phase?: string });
    const phases = events.filter((e) => e.type === "phase-start").map((e) => e.phase);
    expect(phases.indexOf("root.d")).toBeLessThan(phases.indexOf("install.d"));
    expect(phases.indexOf("finalise.d")).toBeLessThan(phases.indexOf("tree-outputs"));

    const tar = join(work, "out.tar");
    const members = sh("tar", ["-tf", tar]);
    const markers = members
      .split("\n")
      .filter((m) => /^\.\/dib-markers\/\d\d-/.test(m))
      .map((m) => m.replace("./dib-markers/", ""))
      .sort();
    expect(markers).toEqual([
      "01-root",
      "02-extra-data",
      "03-pre-install",
      "04-install",
      "05-post-install",
      "06-post-root",
      "08-pre-finalise",
      "09-finalise",
      "10-cleanup",
    ]);
    const install = sh("tar", ["-xOf", tar, "./dib-markers/04-install"]);
    expect(install).toMatch(/^DIB_RELEASE=bookworm$/m);
    expect(install).toMatch(/^IMAGE_ELEMENT=.*\bdebian-minimal\b/m);
    const osRelease = sh("tar", ["-xOf", tar, "./usr/lib/os-release"]);
    expect(osRelease).toMatch(/^VERSION_CODENAME=bookworm$/m);
    expect(members).not.toMatch(/^\.\/proc\/./m);
    expect(heldBelow(work)).toEqual([]);
    expect(existsSync(tmpDir) ? readdirSync(tmpDir) : []).toEqual([]);
  });
});
