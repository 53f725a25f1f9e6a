import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDibError } from "@dib/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Host } from "./host.js";
import { Ledger, readLock } from "./ledger.js";
import { processStartTime } from "./process-identity.js";

/** A pid that is certainly not running: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync("true").pid as number;
}

describe("Ledger.lock", () => {
  let dir: string;
  const host = new Host();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dib-ledger-lock-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes this process and build directory into the lock, and undo removes it", async () => {
    const ledger = Ledger.open(join(dir, "build-a"), host);
    const file = join(dir, ".image.dib-lock");
    await ledger.lock(file, "the output name image");
    expect(readLock(file)).toMatchObject({
      pid: process.pid,
      start: processStartTime(process.pid),
      buildDir: ledger.dir,
    });
    expect(ledger.held().map((e) => e.resource)).toEqual([{ kind: "lock", file }]);
    await ledger.undo();
    expect(existsSync(file)).toBe(false);
  });

  it("refuses a lock a running build holds, naming it, and leaves that lock alone", async () => {
    const file = join(dir, ".image.dib-lock");
    const holder = Ledger.open(join(dir, "build-a"), host);
    await holder.lock(file, "the output name image");
    // Another build directory of a running process (this one stands in for it).
    const other = Ledger.open(join(dir, "build-b"), host);
    const error = await other.lock(file, "the output name image").catch((e: unknown) => e);
    expect(isDibError(error, "DIB_LOCKED")).toBe(true);
    expect((error as Error).message).toContain(
      `the output name image is in use by another build: pid ${process.pid}, build directory ${holder.dir}`,
    );
    await other.undo();
    expect(readLock(file)?.buildDir).toBe(holder.dir);
    await holder.undo();
    expect(existsSync(file)).toBe(false);
  });

  it("takes over a lock whose build is gone, or whose pid now belongs to another process", async () => {
    const file = join(dir, ".image.dib-lock");
    for (const stale of [
      { pid: deadPid(), buildDir: "/gone/dib_build.x", at: "then" },
      // Our own pid with another start time: the number was reused.
      { pid: process.pid, start: -1, buildDir: "/gone/dib_build.y", at: "then" },
    ]) {
      writeFileSync(file, JSON.stringify(stale));
      const ledger = Ledger.open(join(dir, "build-c"), host);
      await ledger.lock(file, "the output name image");
      expect(readLock(file)?.buildDir).toBe(ledger.dir);
      await ledger.undo();
      expect(existsSync(file)).toBe(false);
    }
  });

  it("records the writer's start time, so liveWriters ignores a reused pid", () => {
    const build = join(dir, "build-d");
    const ledger = Ledger.open(build, host);
    const record = (pid: number, start: number | undefined, seq: number) =>
      JSON.stringify({
        seq,
        op: "acquire",
        resource: { kind: "mount", target: `/m${seq}` },
        pid,
        ...(start !== undefined ? { start } : {}),
        at: "t",
      });
    const parent = process.ppid;
    writeFileSync(
      join(build, "ledger.jsonl"),
      `${[
        record(parent, processStartTime(parent), 1),
        record(parent + 0, -5, 2),
        record(deadPid(), undefined, 3),
      ].join("\n")}\n`,
    );
    // The same pid twice: the later record's start time counts, and it does not match.
    expect(ledger.liveWriters()).toEqual([]);
    writeFileSync(join(build, "ledger.jsonl"), `${record(parent, processStartTime(parent), 1)}\n`);
    expect(ledger.liveWriters()).toEqual([parent]);
    ledger.close();
    expect(readFileSync(join(build, "ledger.jsonl"), "utf8")).toContain('"pid"');
  });
});
