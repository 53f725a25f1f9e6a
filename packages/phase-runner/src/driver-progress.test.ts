import { describe, expect, it } from "vitest";
import { DriverProgress } from "./driver-progress.js";
import type { PhaseEvent } from "./phase-events.js";

function follow() {
  const events: PhaseEvent[] = [];
  const output: string[] = [];
  const clock = { ms: 1_000_000 };
  const progress = new DriverProgress({
    phase: "install",
    nonce: "n",
    scripts: ["10-a", "20-b"],
    elementOf: (path) => ({ "install.d/10-a": "alpha", "environment.d/01-env": "envy" })[path],
    emit: (e) => events.push(e),
    output: (line, stream) => output.push(`${stream}:${line}`),
    log: () => {},
    phaseDir: "/h/install.d",
    envDir: "/h/environment.d",
    now: () => clock.ms,
  });
  return { progress, events, output, clock };
}

describe("DriverProgress", () => {
  it("turns markers into events and timings from the driver's clock, and passes output on", () => {
    const { progress, events, output } = follow();
    progress.line("@@dib-phase:n env-start 100.0 01-env", "stderr");
    progress.line("@@dib-phase:n env-end 100.1 01-env", "stderr");
    progress.line("@@dib-phase:n start 100.5 10-a", "stderr");
    progress.line("hello", "stdout");
    progress.line("@@dib-phase:n end 102.75 10-a 0", "stderr");
    progress.line("@@dib-phase:n start 103 20-b", "stderr");
    progress.line("oops@@dib-phase:n end 103.5 20-b 4", "stderr");
    expect(progress.timings).toEqual([
      { script: "10-a", element: "alpha", seconds: 2.25, exitCode: 0 },
      { script: "20-b", element: undefined, seconds: 0.5, exitCode: 4 },
    ]);
    expect(progress.failed?.script).toBe("20-b");
    expect(progress.finished).toBe(false);
    expect(output).toEqual(["stdout:hello", "stderr:oops"]);
    expect(events.map((e) => e.type)).toEqual([
      "environment-file",
      "script-start",
      "output",
      "script-end",
      "script-start",
      "output",
      "script-end",
    ]);
    expect(events[0]).toMatchObject({ file: "01-env", element: "envy" });
    expect(events[1]).toMatchObject({ script: "10-a", element: "alpha", index: 1, total: 2 });
    expect(events[2]).toMatchObject({ type: "output", script: "10-a", stream: "stdout" });
  });

  it("remembers an environment file that never finished", () => {
    const { progress } = follow();
    progress.line("@@dib-phase:n env-start 1 10-gate.bash", "stderr");
    expect(progress.sourcing).toBe("10-gate.bash");
    expect(progress.running).toBeUndefined();
  });

  it("times a script with its own clock when the driver has none", () => {
    const { progress, clock } = follow();
    progress.line("@@dib-phase:n start 0 10-a", "stderr");
    clock.ms += 250;
    progress.line("@@dib-phase:n end 0 10-a 0", "stderr");
    expect(progress.timings[0]?.seconds).toBeCloseTo(0.25);
  });
});
