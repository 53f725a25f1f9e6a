import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, isDibError } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanupBuildDir } from "./cleanup.js";

function record(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

describe("cleanupBuildDir", () => {
  const host = new Host();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dib-cleanup-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("has nothing to do for a directory that is gone (a second cleanup --remove)", async () => {
    expect(await cleanupBuildDir(join(dir, "dib_build.gone"), { host, remove: true })).toEqual({
      released: [],
      removed: false,
      missing: true,
    });
  });

  it("refuses a directory without a ledger: it is not a build directory", async () => {
    const error = await cleanupBuildDir(dir, { host, remove: true }).catch((e: unknown) => e);
    expect(isDibError(error, "DIB_NO_LEDGER")).toBe(true);
  });

  it("refuses the directory of a build that still runs, naming its pid, and touches nothing", async () => {
    const build = join(dir, "dib_build.running");
    mkdirSync(build);
    // The test runner's parent stands in for the running build.
    const pid = process.ppid;
    writeFileSync(
      join(build, "ledger.jsonl"),
      `${record({ seq: 1, op: "acquire", resource: { kind: "mount", target: "/nonexistent/mnt" }, pid, at: "t" })}\n`,
    );
    const error = await cleanupBuildDir(build, { host, remove: true }).catch((e: unknown) => e);
    expect(isDibError(error, "DIB_BUILD_RUNNING")).toBe(true);
    expect((error as Error).message).toBe(
      `the build that owns ${build} is still running (pid ${pid})`,
    );
  });

  it("releases nothing the second time and still succeeds", async () => {
    const build = join(dir, "dib_build.done");
    mkdirSync(build);
    writeFileSync(
      join(build, "ledger.jsonl"),
      [
        record({
          seq: 1,
          op: "acquire",
          resource: { kind: "mount", target: join(build, "x") },
          pid: 1,
          start: -1,
          at: "t",
        }),
        record({ seq: 1, op: "release" }),
        "",
      ].join("\n"),
    );
    for (let run = 0; run < 2; run++) {
      expect(await cleanupBuildDir(build, { host })).toEqual({ released: [], removed: false });
    }
    expect(await cleanupBuildDir(build, { host, remove: true })).toEqual({
      released: [],
      removed: true,
    });
    expect(await cleanupBuildDir(build, { host, remove: true })).toMatchObject({ missing: true });
  });
});
