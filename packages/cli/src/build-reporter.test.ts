import type { BuildResult } from "@dib/builder";
import { describe, expect, it } from "vitest";
import { BuildReporter, formatBytes, formatDuration } from "./build-reporter.js";
import type { BuildDisplay } from "./commands/build-args.js";

function reporter(display: Partial<BuildDisplay> = {}) {
  let text = "";
  const r = new BuildReporter(
    { json: false, console: "phases", timestamps: false, trace: false, ...display },
    { out: { write: (t: string) => (text += t) }, isTTY: false },
  );
  return { r, text: () => text };
}

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

  it("formats sizes and durations for people", () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual([
      "512 B",
      "1.5 KiB",
      "5.0 GiB",
    ]);
    expect([formatDuration(1234), formatDuration(125_000)]).toEqual(["1.2s", "2m05s"]);
  });
});
