import { type BuildEvent, type BuildResult, logTimestamp } from "@dib/builder";
import type { BuildDisplay } from "./commands/build-args.js";

/** Where the reporter writes; a TTY gets a live progress line. */
export interface ReporterStreams {
  out: { write(text: string): unknown };
  isTTY: boolean;
  /** Terminal width for the progress line. */
  columns?: number | undefined;
}

const TAIL_LINES = 40;

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m}m${String(s).padStart(2, "0")}s`;
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
  private script: { name: string; element?: string | undefined } | undefined;
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
    if (this.display.json) {
      this.streams.out.write(`${JSON.stringify(event)}\n`);
      return;
    }
    const quiet = this.display.console === "silent";
    switch (event.type) {
      case "phase-start":
        this.phase = event.phase;
        this.phaseStarted = Date.now();
        this.script = undefined;
        this.tail.length = 0;
        if (this.display.console === "verbose") this.write(this.stamp(`==> ${event.phase}`));
        this.startTicking();
        this.drawProgress();
        break;
      case "phase-end":
        this.stopTicking();
        if (!quiet && (event.ms >= 50 || this.display.console === "verbose")) {
          this.write(
            `${event.ok ? "  ok  " : "FAILED"} ${event.phase.padEnd(22)} ${formatDuration(event.ms).padStart(8)}`,
          );
        }
        this.phase = undefined;
        break;
      case "script-start":
        this.script = { name: event.script, element: event.element };
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
      case "output":
        if (!quiet)
          this.write(
            `Image file ${event.output.path} created (${formatBytes(event.output.bytes)})`,
          );
        break;
    }
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  /** The end of the failing step's output, so the cause is visible without -x. */
  failed(error: {
    code?: string;
    message: string;
    hint?: string | undefined;
    details?: Record<string, unknown>;
  }): void {
    this.stopTicking();
    this.clearProgress();
    if (this.display.json) {
      this.streams.out.write(
        `${JSON.stringify({ type: "build-failed", code: error.code, message: error.message, hint: error.hint, details: error.details })}\n`,
      );
      return;
    }
    if (this.display.console !== "verbose" && this.tail.length > 0) {
      this.streams.out.write(
        `--- last output of ${this.phase ?? "the build"} ---\n${this.tail.join("\n")}\n---\n`,
      );
    }
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
    const text = `… ${this.phase}${script}  ${elapsed}`;
    const width = this.streams.columns ?? 80;
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
