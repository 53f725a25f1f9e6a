import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, isDibError } from "@dib/host";
import { isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { breakpointsFromEnv } from "./breakpoints.js";
import { hookEnvironment } from "./hook-environment.js";
import type { PhaseEvent } from "./phase-events.js";
import { runPhase } from "./run-phase.js";

function put(path: string, body: string, mode = 0o755) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, mode);
}

const readLines = (path: string) => readFileSync(path, "utf8").trimEnd().split("\n");

describe.runIf(isRoot)(`runPhase outside the chroot${rootOnlyReason}`, () => {
  let dir: string;
  let hooks: string;
  let log: string;
  let env: Record<string, string>;
  const logged: string[] = [];
  const host = new Host({ log: (line) => logged.push(line) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "phase-runner-outside-"));
    hooks = join(dir, "hooks");
    log = join(dir, "log");
    logged.length = 0;
    env = {
      ...hookEnvironment({
        arch: "amd64",
        imageName: "image",
        elements: [{ name: "base", path: "/e/base" }],
        elementsPath: ["/e"],
        imageCache: join(dir, "cache"),
        buildDir: dir,
        imageDir: join(dir, "img"),
        args: [],
        phase: "root",
      }),
      PHASE_LOG: log,
    };
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("sources environment.d in byte order, then runs the scripts in sort -n order with that environment", async () => {
    put(join(hooks, "environment.d/10-a.bash"), "export ORDER=a\n", 0o644);
    put(join(hooks, "environment.d/100-b.bash"), 'export ORDER="$ORDER,b"\n', 0o644);
    put(join(hooks, "environment.d/20-c.bash"), 'export ORDER="$ORDER,c"\n', 0o644);
    const record =
      '#!/bin/bash\nset -eu\necho "$(basename "$0") $ORDER $TARGET_ROOT $LC_ALL" >> "$PHASE_LOG"\necho "out of $(basename "$0")"\n';
    for (const name of ["100-c", "01-x", "10-b", "5-a", "foo", "10-foo.sh"])
      put(join(hooks, "root.d", name), record);
    put(join(hooks, "root.d/15-not-executable"), record, 0o644);
    const events: PhaseEvent[] = [];
    const output: string[] = [];
    const result = await runPhase({
      phase: "root",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      onEvent: (e) => events.push(e),
      output: (line) => output.push(line),
      scriptElements: { "root.d/5-a": "alpha" },
      captureStdout: true,
    });
    const mnt = join(dir, "mnt");
    expect(readLines(log)).toEqual(
      ["foo", "01-x", "5-a", "10-b", "100-c"].map((n) => `${n} a,b,c ${mnt} C`),
    );
    expect(result.ran).toBe(true);
    expect(result.timings.map((t) => t.script)).toEqual(["foo", "01-x", "5-a", "10-b", "100-c"]);
    expect(result.timings.find((t) => t.script === "5-a")?.element).toBe("alpha");
    expect(result.stdout).toEqual(
      ["foo", "01-x", "5-a", "10-b", "100-c"].map((n) => `out of ${n}`),
    );
    expect(output).toEqual(result.stdout);
    expect(result.skipped.map((s) => [s.name, s.reason])).toEqual([
      ["10-foo.sh", "bad-name"],
      ["15-not-executable", "not-executable"],
    ]);
    expect(logged.filter((l) => l.startsWith("WARNING:"))).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: "skipped", name: "10-foo.sh" });
    const starts = events.filter((e) => e.type === "script-start");
    expect(starts.map((e) => [e.script, e.index, e.total])).toEqual([
      ["foo", 1, 5],
      ["01-x", 2, 5],
      ["5-a", 3, 5],
      ["10-b", 4, 5],
      ["100-c", 5, 5],
    ]);
    expect(events.filter((e) => e.type === "environment-file").map((e) => e.file)).toEqual([
      "10-a.bash",
      "100-b.bash",
      "20-c.bash",
    ]);
    expect(events.at(-1)).toMatchObject({ type: "phase-end", ok: true });
  });

  it("stops at the first failing script, naming the phase, the script, its element and the exit code", async () => {
    put(join(hooks, "extra-data.d/10-ok"), '#!/bin/bash\necho 10-ok >> "$PHASE_LOG"\n');
    put(join(hooks, "extra-data.d/20-bad"), '#!/bin/bash\necho "about to fail" >&2\nexit 3\n');
    put(join(hooks, "extra-data.d/30-never"), '#!/bin/bash\necho 30-never >> "$PHASE_LOG"\n');
    const events: PhaseEvent[] = [];
    const error = await runPhase({
      phase: "extra-data",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      output: () => {},
      onEvent: (e) => events.push(e),
      scriptElements: new Map([["extra-data.d/20-bad", "my-element"]]),
    }).catch((e: unknown) => e);
    expect(isDibError(error, "DIB_PHASE_SCRIPT_FAILED")).toBe(true);
    expect((error as Error).message).toBe(
      "extra-data.d/20-bad (element my-element) failed with exit code 3",
    );
    expect((error as { details: unknown }).details).toMatchObject({
      phase: "extra-data",
      script: "20-bad",
      element: "my-element",
      exitCode: 3,
      outputTail: ["about to fail"],
    });
    expect(readLines(log)).toEqual(["10-ok"]);
    expect(events.at(-1)).toMatchObject({ type: "phase-end", ok: false });
  });

  it("aborts the phase when an environment file exits, naming the file and its element", async () => {
    put(join(hooks, "environment.d/05-arch-gate.bash"), 'echo "arm64 only" >&2\nexit 1\n', 0o644);
    put(join(hooks, "root.d/10-x"), '#!/bin/bash\necho ran >> "$PHASE_LOG"\n');
    const error = await runPhase({
      phase: "root",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      output: () => {},
      scriptElements: (path) =>
        path === "environment.d/05-arch-gate.bash" ? "block-device-efi" : undefined,
    }).catch((e: unknown) => e);
    expect(isDibError(error, "DIB_PHASE_ENVIRONMENT_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(
      /^environment\.d\/05-arch-gate\.bash \(element block-device-efi\) stopped phase root\.d with exit code 1/,
    );
    expect(() => readFileSync(log)).toThrow();
  });

  it("runs nothing for a phase no element has, but still stops at its breakpoints as DIB does", async () => {
    mkdirSync(hooks, { recursive: true });
    const result = await runPhase({
      phase: "pre-finalise",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      breakpoints: breakpointsFromEnv({
        break: "before-pre-finalise,after-pre-finalise",
        break_cmd: 'echo "break at $PWD" >> "$PHASE_LOG"',
      }),
      cwd: dir,
    });
    expect(result).toMatchObject({ ran: false, timings: [] });
    expect(readLines(log)).toEqual([`break at ${dir}`, `break at ${dir}`]);
  });

  it("opens the break command before and after a phase, and after an error", async () => {
    put(join(hooks, "post-root.d/10-a"), '#!/bin/bash\necho 10-a >> "$PHASE_LOG"\n');
    const breakpoints = breakpointsFromEnv({
      break: "before-post-root,after-post-root,after-error",
      break_cmd: 'echo break >> "$PHASE_LOG"',
    });
    const events: PhaseEvent[] = [];
    await runPhase({
      phase: "post-root",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      breakpoints,
      output: () => {},
      onEvent: (e) => events.push(e),
    });
    expect(readLines(log)).toEqual(["break", "10-a", "break"]);
    expect(events.filter((e) => e.type === "breakpoint").map((e) => e.point)).toEqual([
      "before-post-root",
      "after-post-root",
    ]);
    expect(logged).toContain("Starting debug shell. Exit to resume building.");

    rmSync(log);
    put(join(hooks, "cleanup.d/10-bad"), '#!/bin/bash\necho 10-bad >> "$PHASE_LOG"\nexit 1\n');
    const failing = runPhase({
      phase: "cleanup",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      breakpoints: breakpointsFromEnv({
        break: "after-error",
        break_cmd: 'echo after-error >> "$PHASE_LOG"',
      }),
      output: () => {},
    });
    await expect(failing).rejects.toMatchObject({ code: "DIB_PHASE_SCRIPT_FAILED" });
    expect(readLines(log)).toEqual(["10-bad", "after-error"]);
  });

  it("does not hang on a background process that keeps the phase's output open", async () => {
    put(
      join(hooks, "root.d/10-daemon"),
      `#!/bin/bash\nsleep 60 &\necho $! > "${dir}/daemon.pid"\n`,
    );
    const started = Date.now();
    await runPhase({
      phase: "root",
      hooksDir: hooks,
      target: "outside",
      env,
      host,
      outputGraceMs: 300,
    });
    const pid = Number(readFileSync(join(dir, "daemon.pid"), "utf8"));
    try {
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(logged.some((l) => l.includes("still holds its output"))).toBe(true);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("refuses a hook tree that does not exist", async () => {
    await expect(
      runPhase({ phase: "root", hooksDir: join(dir, "missing"), target: "outside", env, host }),
    ).rejects.toMatchObject({ code: "DIB_HOOKS_MISSING" });
  });
});
