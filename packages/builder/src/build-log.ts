import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { BuildEvent } from "./build-events.js";

/** A build event as one line of text (the log file's form, and the CLI's plain form). */
export function eventLine(event: BuildEvent): string | undefined {
  switch (event.type) {
    case "phase-start":
      return `==> ${event.phase}`;
    case "phase-end":
      return `<== ${event.phase} ${event.ok ? "done" : "FAILED"} in ${(event.ms / 1000).toFixed(1)}s`;
    case "script-start":
      return `dib-run-parts Running ${event.phase}/${event.script}${event.element ? ` (${event.element})` : ""}`;
    case "script-end":
      return `dib-run-parts ${event.script} completed with ${event.exitCode} in ${(event.ms / 1000).toFixed(3)}s`;
    case "log":
      return event.line;
    case "output":
      return `Image file ${event.output.path} created (${event.output.bytes} bytes)`;
    case "warning":
      return `WARNING: ${event.message}`;
  }
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC, DIB's log-line prefix. */
export function logTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/** `--logfile`: every event appended as a timestamped line, as DIB's outfilter writes it. */
export class BuildLogFile {
  private fd: number | undefined;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, "a");
  }

  write(event: BuildEvent): void {
    const line = eventLine(event);
    if (line === undefined || this.fd === undefined) return;
    writeSync(this.fd, `${logTimestamp(new Date())} | ${line}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
