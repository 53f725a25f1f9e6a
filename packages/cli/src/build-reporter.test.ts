import type { BuildResult } from "@dib/builder";
import { describe, expect, it } from "vitest";
import { BuildReporter, formatDuration } from "./build-reporter.js";
import type { BuildDisplay } from "./commands/build-args.js";

function reporter(
  display: Partial<BuildDisplay> = {},
  terminal: { isTTY?: boolean; columns?: number } = {},
) {
  let text = "";
  let errText = "";
  const r = new BuildReporter(
    { json: false, console: "phases", timestamps: false, trace: false, ...display },
    {
      out: { write: (t: string) => (text += t) },
      err: { write: (t: string) => (errText += t) },
      isTTY: terminal.isTTY ?? false,
      columns: terminal.columns,
    },
  );
  return { r, text: () => text, errText: () => errText };
}

/** What a terminal shows on its last line: the text after the last carriage return. */
function progressLine(text: string): string {
  return (text.split("\r").at(-1) ?? "").replace("\x1b[2K", "");
}

/** A hook phase whose second script fails, as the builder reports it. */
function failInInstall(r: BuildReporter): void {
  r.event({ type: "phase-start", phase: "install.d", where: "chroot" });
  r.event({ type: "script-start", phase: "install.d", script: "10-ok", element: "base" });
  r.event({
    type: "script-end",
    phase: "install.d",
    script: "10-ok",
    element: "base",
    ms: 100,
    exitCode: 0,
  });
  r.event({ type: "script-start", phase: "install.d", script: "50-fail", element: "fail-in" });
  r.event({ type: "log", line: "fail-in: no luck", stream: "stderr", phase: "install.d" });
  r.event({
    type: "script-end",
    phase: "install.d",
    script: "50-fail",
    element: "fail-in",
    ms: 200,
    exitCode: 3,
  });
  r.event({ type: "phase-end", phase: "install.d", ms: 2500, ok: false });
}

const scriptFailure = {
  code: "DIB_PHASE_SCRIPT_FAILED",
  message: "install.d/50-fail (element fail-in) failed with exit code 3",
  details: { step: "install.d", phase: "install", script: "50-fail", element: "fail-in" },
};

const result = {
  outputs: [{ type: "tar", path: "/w/out.tar", bytes: 3 * 1024 * 1024, checksums: {} }],
  timings: [
    { phase: "root.d", ms: 61_000 },
    { phase: "hooks", ms: 20 },
  ],
  elements: ["base", "debian-minimal"],
  durationMs: 65_000,
} as unknown as BuildResult;

describe("BuildReporter", () => {
  it("shows one line per finished step and hides hook output by default", () => {
    const { r, text } = reporter();
    r.event({ type: "phase-start", phase: "install.d", where: "chroot" });
    r.event({ type: "script-start", phase: "install.d", script: "50-x", element: "e" });
    r.event({ type: "log", line: "apt says hello", stream: "stdout", phase: "install.d" });
    r.event({ type: "phase-end", phase: "install.d", ms: 2500, ok: true });
    expect(text()).toBe("  ok   install.d                  2.5s\n");
  });

  it("counts the running step in the plan on a terminal's progress line", () => {
    const { r, text } = reporter({}, { isTTY: true });
    r.event({ type: "phase-start", phase: "elements", where: "builder" });
    expect(progressLine(text())).toMatch(/^… elements {2}0\.\ds$/);
    r.event({ type: "phase-end", phase: "elements", ms: 10, ok: true });
    r.event({ type: "phase-start", phase: "workspace", where: "builder", index: 2, total: 17 });
    expect(progressLine(text())).toMatch(/^… \[2\/17\] workspace {2}0\.\ds$/);
    r.event({ type: "phase-end", phase: "workspace", ms: 10, ok: true });
    r.event({ type: "phase-skip", phase: "root.d", reason: "restored", index: 3, total: 17 });
    r.event({ type: "phase-start", phase: "install.d", where: "chroot", index: 6, total: 17 });
    r.event({ type: "script-start", phase: "install.d", script: "50-x", element: "e" });
    expect(progressLine(text())).toMatch(/^… \[6\/17\] install\.d 50-x \(e\) {2}0\.\ds$/);
    r.event({ type: "phase-end", phase: "install.d", ms: 2500, ok: true });
    // The step's own line replaces the progress line; the counter is not left behind.
    expect(progressLine(text())).toBe("  ok   install.d                  2.5s\n");
    r.summary(result);
  });

  it("keeps the counter when a narrow terminal cuts the progress line", () => {
    const { r, text } = reporter({}, { isTTY: true, columns: 24 });
    r.event({ type: "phase-start", phase: "install.d", where: "chroot", index: 12, total: 31 });
    r.event({ type: "script-start", phase: "install.d", script: "50-long-name", element: "e" });
    expect(progressLine(text())).toBe("… [12/31] install.d 50…");
    r.summary(result);
  });

  it("takes a terminal that says it has 0 columns for 80", () => {
    const { r, text } = reporter({}, { isTTY: true, columns: 0 });
    r.event({ type: "phase-start", phase: "install.d", where: "chroot", index: 6, total: 17 });
    expect(progressLine(text())).toMatch(/^… \[6\/17\] install\.d {2}0\.\ds$/);
    r.summary(result);
  });

  it("draws no progress line (and no counter) when stdout is not a terminal", () => {
    const { r, text } = reporter();
    r.event({ type: "phase-start", phase: "install.d", where: "chroot", index: 6, total: 17 });
    expect(text()).toBe("");
  });

  it("streams hook output with timestamps when verbose", () => {
    const { r, text } = reporter({ console: "verbose", timestamps: true });
    r.event({ type: "log", line: "apt says hello", stream: "stdout" });
    expect(text()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| apt says hello\n$/);
  });

  it("prints the end of the failing step's output on failure", () => {
    const { r, text } = reporter();
    r.event({ type: "phase-start", phase: "finalise.d", where: "chroot" });
    r.event({ type: "log", line: "grub-install: error: no such device", stream: "stderr" });
    r.failed({ code: "DIB_PHASE_SCRIPT_FAILED", message: "finalise.d/50-bootloader failed" });
    expect(text()).toContain(
      "--- last output of finalise.d ---\ngrub-install: error: no such device\n---\n",
    );
  });

  it("says which steps the stage cache stood for: with -x each one, always the cache's own line", () => {
    const hit =
      "Stage cache: reused the tree after post-install.d (key 0123456789ab; checksum verified)";
    for (const console of ["phases", "verbose"] as const) {
      const { r, text } = reporter({ console });
      r.event({ type: "log", line: hit, stream: "builder" });
      r.event({ type: "phase-skip", phase: "install.d", reason: "restored from the stage cache" });
      expect(text()).toContain(hit);
      if (console === "verbose") {
        expect(text()).toContain("  skip   install.d              restored from the stage cache\n");
      } else {
        expect(text()).not.toContain("skip");
      }
    }
    const { r, text } = reporter({ json: true });
    r.event({
      type: "stage-cache",
      stage: "post-install.d",
      result: "miss",
      reason: "x changed",
      changes: ["x changed"],
    });
    expect(JSON.parse(text())).toMatchObject({
      type: "stage-cache",
      result: "miss",
      changes: ["x changed"],
    });
  });

  it("prints one JSON object per event with --json, and the result last", () => {
    const { r, text } = reporter({ json: true });
    r.event({ type: "phase-start", phase: "root.d", where: "outside" });
    r.summary(result);
    const lines = text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ type: "phase-start", phase: "root.d", where: "outside" });
    expect(lines[1]).toMatchObject({ type: "build-end", outputs: result.outputs });
  });

  it("ends with a summary of the outputs and the slow phases", () => {
    const { r, text } = reporter();
    r.summary(result);
    expect(text()).toBe(
      [
        "Built base debian-minimal in 1m05s",
        "  tar      /w/out.tar  3.0 MiB",
        "Time per phase (1s or more):",
        "  root.d                    1m01s",
        "",
      ].join("\n"),
    );
  });

  it("keeps silent but for errors when DIB_QUIET=1", () => {
    const { r, text } = reporter({ console: "silent" });
    r.event({ type: "phase-end", phase: "root.d", ms: 5000, ok: true });
    r.event({ type: "warning", message: "x" });
    r.summary(result);
    expect(text()).toBe("");
  });

  it("formats durations for people", () => {
    expect([formatDuration(1234), formatDuration(125_000)]).toEqual(["1.2s", "2m05s"]);
  });

  it("rounds a duration once, so it never shows 60 seconds or 60 minutes", () => {
    expect(
      [59_949, 59_950, 119_960, 779_600, 3_599_400, 3_599_900, 3_725_000, 36_000_000].map(
        formatDuration,
      ),
    ).toEqual(["59.9s", "1m00s", "2m00s", "13m00s", "59m59s", "1h00m00s", "1h02m05s", "10h00m00s"]);
  });

  it("marks the failed step with the script and element that failed", () => {
    const { r, text } = reporter();
    failInInstall(r);
    expect(text()).toBe("FAILED install.d                  2.5s  50-fail (element fail-in)\n");
  });

  it("names the failed step, script and element over its output and in the summary", () => {
    const { r, text } = reporter();
    failInInstall(r);
    r.failed(scriptFailure);
    expect(text()).toContain(
      "--- last output of install.d/50-fail (element fail-in) ---\nfail-in: no luck\n---\n",
    );
    expect(text()).toMatch(/^Build failed in install\.d\/50-fail \(element fail-in\)$/m);
  });

  it("names the failed step in the summary even when its output was streamed", () => {
    const { r, text } = reporter({ console: "verbose" });
    failInInstall(r);
    r.failed(scriptFailure);
    expect(text()).not.toContain("--- last output");
    expect(text()).toMatch(/^Build failed in install\.d\/50-fail \(element fail-in\)$/m);
  });

  it("does not blame a script that finished well when its step fails later", () => {
    const { r, text } = reporter();
    r.event({ type: "phase-start", phase: "root.d", where: "outside" });
    r.event({ type: "script-start", phase: "root.d", script: "10-ok", element: "base" });
    r.event({ type: "log", line: "made the root", stream: "stdout", phase: "root.d" });
    r.event({ type: "script-end", phase: "root.d", script: "10-ok", ms: 5, exitCode: 0 });
    r.event({ type: "phase-end", phase: "root.d", ms: 3000, ok: false });
    r.failed({ code: "DIB_PHASE_DRIVER_FAILED", message: "phase root.d could not run" });
    expect(text()).toContain("--- last output of root.d ---\n");
    expect(text()).toMatch(/^FAILED root\.d\s+3\.0s$/m);
    expect(text()).toMatch(/^Build failed in root\.d$/m);
  });

  it("names a failed builder step from the error when no step event was seen", () => {
    const { r, text } = reporter();
    r.failed({
      code: "DIB_COMMAND_FAILED",
      message: "mkfs.ext4 failed",
      details: { step: "block-device-create" },
    });
    expect(text()).toBe("Build failed in block-device-create\n");
  });

  it("keeps what the builder says after the failure out of the failed step's output", () => {
    const { r, text } = reporter();
    failInInstall(r);
    r.event({ type: "log", line: "Build directory kept for inspection: /b", stream: "builder" });
    r.failed(scriptFailure);
    expect(text().match(/Build directory kept/g)).toHaveLength(1);
    expect(text()).toContain("\nfail-in: no luck\n---\n");
  });

  it("adds the failed step, script and element to the build-failed event with --json", () => {
    const { r, text } = reporter({ json: true });
    failInInstall(r);
    r.failed(scriptFailure);
    const last = JSON.parse(text().trim().split("\n").at(-1) as string);
    expect(last).toMatchObject({
      type: "build-failed",
      code: "DIB_PHASE_SCRIPT_FAILED",
      step: "install.d",
      script: "50-fail",
      element: "fail-in",
    });
  });

  it("says it is releasing everything on stderr when interrupted, keeping stdout for results", () => {
    const { r, text, errText } = reporter();
    r.event({ type: "phase-start", phase: "install.d", where: "chroot" });
    r.interrupted("SIGINT");
    expect(errText()).toBe("SIGINT: releasing everything this build holds\n");
    expect(text()).toBe("");
  });

  it("with --json, writes nothing but one JSON object per line to stdout, interrupts included", () => {
    const { r, text, errText } = reporter({ json: true, console: "verbose", timestamps: true });
    r.hostLine("+ mkfs.ext4 -L 'a \"label\"' /dev/loop0");
    r.hostLine("WARNING: tab\there, and a line\nbreak");
    failInInstall(r);
    r.event({ type: "warning", message: "x\u2028y" });
    r.event({
      type: "output",
      output: { type: "raw", path: "/w/x.raw", bytes: 1, checksums: {} },
    });
    r.interrupted("SIGTERM");
    r.failed(scriptFailure);
    r.summary(result);
    const lines = text().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(14);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).type)).toContain("interrupted");
    expect(errText()).toBe("SIGTERM: releasing everything this build holds\n");
  });
});
