import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHASE_DRIVER_NAME, PHASE_DRIVER_SCRIPT, parseDriverLine } from "./phase-driver.js";

let dir: string;
let driver: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "phase-runner-driver-"));
  driver = join(dir, PHASE_DRIVER_NAME);
  writeFileSync(driver, PHASE_DRIVER_SCRIPT);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function hasShellcheck(): boolean {
  return spawnSync("shellcheck", ["--version"], { stdio: "ignore" }).status === 0;
}

function put(path: string, body: string, mode = 0o755) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, mode);
}

function runDriver(phaseDir: string, envDir: string, envFiles: string[], scripts: string[]) {
  const r = spawnSync("bash", [driver, phaseDir, envDir, "n0nce", ...envFiles, "--", ...scripts], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, LC_ALL: "C" },
  });
  const markers = r.stderr
    .split("\n")
    .map((l) => parseDriverLine(l, "n0nce").marker)
    .filter((m) => m !== undefined)
    .map((m) => `${m.event} ${m.name}${m.exitCode === undefined ? "" : ` ${m.exitCode}`}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, markers };
}

describe("the phase driver", () => {
  it("is valid bash", () => {
    expect(() => execFileSync("bash", ["-n", driver])).not.toThrow();
  });

  it.runIf(hasShellcheck())("is shellcheck-clean", () => {
    expect(() =>
      execFileSync("shellcheck", ["--shell=bash", driver], { encoding: "utf8" }),
    ).not.toThrow();
  });

  it("sources environment files in the given order, then runs the scripts with what they exported", () => {
    const hooks = join(dir, "t1");
    put(join(hooks, "environment.d/10-a.bash"), "export ORDER=a\n", 0o644);
    put(
      join(hooks, "environment.d/20-b.bash"),
      'export ORDER="$ORDER,b"\nexport LOCAL_ONLY=x\n',
      0o644,
    );
    put(join(hooks, "install.d/10-first"), '#!/bin/bash\necho "first $ORDER"\n');
    put(join(hooks, "install.d/20-second"), "#!/bin/bash\necho second >&2\n");
    const r = runDriver(
      join(hooks, "install.d"),
      join(hooks, "environment.d"),
      ["10-a.bash", "20-b.bash"],
      ["10-first", "20-second"],
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("first a,b\n");
    expect(r.stderr).toContain("second\n");
    expect(r.markers).toEqual([
      "env-start 10-a.bash",
      "env-end 10-a.bash",
      "env-start 20-b.bash",
      "env-end 20-b.bash",
      "start 10-first",
      "end 10-first 0",
      "start 20-second",
      "end 20-second 0",
      "finished -",
    ]);
  });

  it("stops at the first failing script and exits with its code", () => {
    const hooks = join(dir, "t2");
    put(join(hooks, "install.d/10-ok"), "#!/bin/bash\ntrue\n");
    put(join(hooks, "install.d/20-bad"), "#!/bin/bash\nexit 7\n");
    put(join(hooks, "install.d/30-never"), "#!/bin/bash\necho never\n");
    const r = runDriver(
      join(hooks, "install.d"),
      join(hooks, "environment.d"),
      [],
      ["10-ok", "20-bad", "30-never"],
    );
    expect(r.status).toBe(7);
    expect(r.stdout).not.toContain("never");
    expect(r.markers).toEqual(["start 10-ok", "end 10-ok 0", "start 20-bad", "end 20-bad 7"]);
  });

  it("aborts the phase when an environment file exits, before any script runs", () => {
    const hooks = join(dir, "t3");
    put(join(hooks, "environment.d/10-gate.bash"), 'echo "unsupported arch" >&2\nexit 1\n', 0o644);
    put(join(hooks, "install.d/10-x"), "#!/bin/bash\necho ran\n");
    const r = runDriver(
      join(hooks, "install.d"),
      join(hooks, "environment.d"),
      ["10-gate.bash"],
      ["10-x"],
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.markers).toEqual(["env-start 10-gate.bash"]);
  });

  it("sources under set -u: an environment file reading an unset variable fails the phase", () => {
    const hooks = join(dir, "t4");
    put(join(hooks, "environment.d/10-u.bash"), 'export X="$SURELY_UNSET_VARIABLE"\n', 0o644);
    const r = runDriver(join(hooks, "install.d"), join(hooks, "environment.d"), ["10-u.bash"], []);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/SURELY_UNSET_VARIABLE: unbound variable/);
  });

  it("keeps its progress channel away from the scripts (fd 57 is closed for them)", () => {
    const hooks = join(dir, "t5");
    put(
      join(hooks, "install.d/10-fd"),
      "#!/bin/bash\nif { true >&57; } 2>/dev/null; then echo open; else echo closed; fi\n",
    );
    const r = runDriver(join(hooks, "install.d"), join(hooks, "environment.d"), [], ["10-fd"]);
    expect(r.stdout).toBe("closed\n");
  });

  it("runs with no environment files and no scripts", () => {
    const r = runDriver(join(dir, "none.d"), join(dir, "none-env"), [], []);
    expect(r.status).toBe(0);
    expect(r.markers).toEqual(["finished -"]);
  });
});

describe("parseDriverLine", () => {
  it("reads a marker with its time and exit code", () => {
    expect(parseDriverLine("@@dib-phase:abc end 1700000000.123456 50-x 3", "abc")).toEqual({
      output: undefined,
      marker: { event: "end", at: 1700000000.123456, name: "50-x", exitCode: 3 },
    });
  });

  it("splits output a script left without a newline from the marker after it", () => {
    expect(parseDriverLine("partial@@dib-phase:abc start 1.5 10-y", "abc")).toEqual({
      output: "partial",
      marker: { event: "start", at: 1.5, name: "10-y" },
    });
  });

  it("treats a marker with another nonce, or no usable clock, as such", () => {
    expect(parseDriverLine("@@dib-phase:zzz start 1 10-y", "abc").marker).toBeUndefined();
    expect(parseDriverLine("@@dib-phase:abc start 0 10-y", "abc").marker?.at).toBeUndefined();
    expect(parseDriverLine("@@dib-phase:abc start %s.%N 10-y", "abc").marker?.at).toBeUndefined();
  });
});
