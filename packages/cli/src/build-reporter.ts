import { type BuildEvent, type BuildResult, logTimestamp } from "@dib/builder";
import { formatBytes } from "@dib/output";
import type { BuildDisplay } from "./commands/build-args.js";

/** Where the reporter writes; a TTY gets a live progress line. */
export interface ReporterStreams {
  /** Results and progress (with --json, only JSON events). */
  out: { write(text: string): unknown };
  /** What the user must see even when stdout is a pipe: the interrupt message. */
  err: { write(text: string): unknown };
  isTTY: boolean;
  /** Terminal width for the progress line. */
  columns?: number | undefined;
}

/** Where a build failed: the step, and for hooks the script and its element when known. */
interface FailedStep {
  step: string;
  script?: string | undefined;
  element?: string | undefined;
}

/** `50-fail (element fail-in)`, as the phase runner's errors name a script. */
function describeScript(script: string, element: string | undefined): string {
  return `${script}${element ? ` (element ${element})` : ""}`;
}

/** `install.d/50-fail (element fail-in)`, or the step alone when no script is to blame. */
function describeFailedStep(where: FailedStep): string {
  if (where.script === undefined) return where.step;
  return `${where.step}/${describeScript(where.script, where.element)}`;
}

const TAIL_LINES = 40;

/**
 * `2.5s` under a minute, then `2m05s`, then `1h02m05s`. The value is rounded once, before
 * it is split, so 59.95 s is `1m00s` and 779.6 s `13m00s` (never `60.0s` or `12m60s`).
 */
export function formatDuration(ms: number): string {
  const tenths = Math.round(Math.max(0, ms) / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const total = Math.round(Math.max(0, ms) / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(total / 3600);
  const m = Math.floor(total / 60) % 60;
  const s = total % 60;
  return h > 0 ? `${h}h${two(m)}m${two(s)}s` : `${m}m${two(s)}s`;
}

function detail(details: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = details?.[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Turns build events into what a person (or, with --json, a program) reads: phase lines,
 * a live progress line on a terminal, hook output when asked for, the end of the failing
 * script's output on failure, and a summary.
 */
export class BuildReporter {
  private readonly tail: string[] = [];
  private phase: string | undefined;
  private phaseStarted = 0;
  /** `[index/total]` of the running step in the build's plan, once there is a plan. */
  private counter = "";
  private script: { name: string; element?: string | undefined } | undefined;
  /** The step whose phase-end said it failed (kept: `phase` is cleared at its end). */
  private failedStep: FailedStep | undefined;
  private progressShown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly display: BuildDisplay,
    private readonly streams: ReporterStreams,
  ) {}

  private get live(): boolean {
    return this.streams.isTTY && !this.display.json && this.display.console === "phases";
  }

  private write(line: string): void {
    this.clearProgress();
    this.streams.out.write(`${line}\n`);
    this.drawProgress();
  }

  private stamp(line: string): string {
    return this.display.timestamps ? `${logTimestamp(new Date())} | ${line}` : line;
  }

  /** A line from the host (a command trace, a warning from a package). */
  hostLine(line: string): void {
    this.remember(line);
    if (this.display.json) {
      this.streams.out.write(`${JSON.stringify({ type: "log", stream: "host", line })}\n`);
      return;
    }
    if (
      this.display.console === "verbose" ||
      (this.display.console === "phases" && line.startsWith("WARNING"))
    ) {
      this.write(this.stamp(line));
    }
  }

  event(event: BuildEvent): void {
    if (event.type === "log") this.remember(event.line);
    this.track(event);
    if (this.display.json) {
      this.streams.out.write(`${JSON.stringify(event)}\n`);
      return;
    }
    const quiet = this.display.console === "silent";
    switch (event.type) {
      case "phase-start":
        if (this.display.console === "verbose") this.write(this.stamp(`==> ${event.phase}`));
        this.startTicking();
        this.drawProgress();
        break;
      case "phase-end":
        this.stopTicking();
        if (!quiet && (!event.ok || event.ms >= 50 || this.display.console === "verbose")) {
          const line = `${event.ok ? "  ok  " : "FAILED"} ${event.phase.padEnd(22)} ${formatDuration(event.ms).padStart(8)}`;
          const script = this.failedStep?.script;
          this.write(
            script ? `${line}  ${describeScript(script, this.failedStep?.element)}` : line,
          );
        }
        break;
      case "script-start":
        if (this.display.console === "verbose") {
          this.write(this.stamp(`dib-run-parts Running ${event.phase}/${event.script}`));
        }
        this.drawProgress();
        break;
      case "script-end":
        if (this.display.console === "verbose") {
          this.write(
            this.stamp(`dib-run-parts ${event.script} completed (${formatDuration(event.ms)})`),
          );
        }
        break;
      case "log":
        if (this.display.console === "verbose") this.write(this.stamp(event.line));
        else if (event.stream === "builder" && !quiet) this.write(event.line);
        break;
      case "warning":
        if (!quiet) this.write(`WARNING: ${event.message}`);
        break;
      case "phase-skip":
        // The stage cache's own line already says why; -x lists each step passed over.
        if (this.display.console === "verbose") {
          this.write(this.stamp(`  skip   ${event.phase.padEnd(22)} ${event.reason}`));
        }
        break;
      case "output":
        if (!quiet)
          this.write(
            `Image file ${event.output.path} created (${formatBytes(event.output.bytes)})`,
          );
        break;
    }
  }

  /** Follows where the build is, for the progress line and for naming a failure. */
  private track(event: BuildEvent): void {
    switch (event.type) {
      case "phase-start":
        this.phase = event.phase;
        this.phaseStarted = Date.now();
        this.counter =
          event.index !== undefined && event.total !== undefined
            ? `[${event.index}/${event.total}] `
            : "";
        this.script = undefined;
        this.failedStep = undefined;
        this.tail.length = 0;
        break;
      case "script-start":
        this.script = { name: event.script, element: event.element };
        break;
      case "script-end":
        // A script that finished well is not what a later failure of the step is about.
        if (event.exitCode === 0) this.script = undefined;
        break;
      case "phase-end":
        if (!event.ok) {
          this.failedStep = {
            step: event.phase,
            script: this.script?.name,
            element: this.script?.element,
          };
        }
        this.phase = undefined;
        this.script = undefined;
        break;
    }
  }

  private remember(line: string): void {
    // Only a running step's output: what the builder says after a failure is not its cause.
    if (this.phase === undefined) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  /** Where the build failed: from the step events, else from the error's details. */
  private failedAt(details: Record<string, unknown> | undefined): FailedStep | undefined {
    if (this.failedStep) return this.failedStep;
    const step = this.phase ?? detail(details, "step");
    if (step === undefined) return undefined;
    const fromEvents = this.phase !== undefined && this.script !== undefined;
    return {
      step,
      script: fromEvents ? this.script?.name : detail(details, "script"),
      element: fromEvents ? this.script?.element : detail(details, "element"),
    };
  }

  /**
   * After a failure: the end of the failed step's output (so the cause is visible without
   * -x) under a header naming the step, script and element, then a line saying where the
   * build failed.
   */
  failed(error: {
    code?: string;
    message: string;
    hint?: string | undefined;
    details?: Record<string, unknown>;
  }): void {
    this.stopTicking();
    this.clearProgress();
    const at = this.failedAt(error.details);
    if (this.display.json) {
      this.streams.out.write(
        `${JSON.stringify({ type: "build-failed", code: error.code, message: error.message, hint: error.hint, step: at?.step, script: at?.script, element: at?.element, details: error.details })}\n`,
      );
      return;
    }
    const where = at ? describeFailedStep(at) : undefined;
    if (this.display.console !== "verbose" && this.tail.length > 0) {
      this.streams.out.write(
        `--- last output of ${where ?? "the build"} ---\n${this.tail.join("\n")}\n---\n`,
      );
    }
    if (this.display.console !== "silent") {
      this.streams.out.write(where ? `Build failed in ${where}\n` : "Build failed\n");
    }
  }

  /**
   * A signal arrived and everything the build holds is being released. Said on stderr:
   * stdout carries results (and with --json, events only), and may be a pipe no one reads.
   */
  interrupted(signal: string): void {
    this.stopTicking();
    this.clearProgress();
    if (this.display.json) {
      this.streams.out.write(`${JSON.stringify({ type: "interrupted", signal })}\n`);
    }
    this.streams.err.write(`${signal}: releasing everything this build holds\n`);
  }

  summary(result: BuildResult): void {
    this.stopTicking();
    this.clearProgress();
    if (this.display.json) {
      this.streams.out.write(
        `${JSON.stringify({ type: "build-end", outputs: result.outputs, timings: result.timings, elements: result.elements, durationMs: result.durationMs })}\n`,
      );
      return;
    }
    if (this.display.console === "silent") return;
    const lines = [`Built ${result.elements.join(" ")} in ${formatDuration(result.durationMs)}`];
    for (const o of result.outputs)
      lines.push(`  ${o.type.padEnd(8)} ${o.path}  ${formatBytes(o.bytes)}`);
    const slow = result.timings.filter((t) => t.ms >= 1000);
    if (slow.length > 0) {
      lines.push("Time per phase (1s or more):");
      for (const t of slow)
        lines.push(`  ${t.phase.padEnd(22)} ${formatDuration(t.ms).padStart(8)}`);
    }
    this.streams.out.write(`${lines.join("\n")}\n`);
  }

  private progressText(): string {
    const elapsed = formatDuration(Date.now() - this.phaseStarted);
    const script = this.script
      ? ` ${this.script.name}${this.script.element ? ` (${this.script.element})` : ""}`
      : "";
    const text = `… ${this.counter}${this.phase}${script}  ${elapsed}`;
    // A pseudo-terminal nobody sized (`script -c` under a pipe, say) says 0 columns.
    const width = this.streams.columns || 80;
    return text.length >= width ? `${text.slice(0, width - 2)}…` : text;
  }

  private drawProgress(): void {
    if (!this.live || this.phase === undefined) return;
    this.streams.out.write(`\r\x1b[2K${this.progressText()}`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.streams.out.write("\r\x1b[2K");
    this.progressShown = false;
  }

  private startTicking(): void {
    if (!this.live || this.timer) return;
    this.timer = setInterval(() => this.drawProgress(), 1000);
    this.timer.unref();
  }

  private stopTicking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
