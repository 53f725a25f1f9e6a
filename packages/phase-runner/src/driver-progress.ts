import { type DriverMarker, parseDriverLine } from "./phase-driver.js";
import type { PhaseEvent } from "./phase-events.js";
import type { ScriptTiming } from "./profiling-table.js";

const OUTPUT_TAIL_LINES = 20;

export interface DriverProgressOptions {
  phase: string;
  nonce: string;
  scripts: readonly string[];
  elementOf: (path: string) => string | undefined;
  emit: (event: PhaseEvent) => void;
  /** A line of output that is not a marker. */
  output: (line: string, stream: "stdout" | "stderr") => void;
  log: (line: string) => void;
  /** The phase directory as the scripts see it, for the log lines. */
  phaseDir: string;
  envDir: string;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * Follows the driver's output: turns its markers into events and timings, passes every
 * other line on, and remembers where the driver stopped (for the error).
 */
export class DriverProgress {
  readonly timings: ScriptTiming[] = [];
  readonly outputTail: string[] = [];
  /** The environment file being sourced, if the driver stopped inside one. */
  sourcing: string | undefined;
  /** The script running, if the driver stopped inside one. */
  running: string | undefined;
  /** The first script that ended with a non-zero code. */
  failed: ScriptTiming | undefined;
  finished = false;

  private readonly startedMs: number;
  private scriptStart: { at: number | undefined; ms: number } | undefined;
  private index = 0;
  private readonly now: () => number;

  constructor(private readonly options: DriverProgressOptions) {
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
  }

  private elapsed(): number {
    return (this.now() - this.startedMs) / 1000;
  }

  private element(script: string): string | undefined {
    return this.options.elementOf(`${this.options.phase}.d/${script}`);
  }

  line(line: string, stream: "stdout" | "stderr"): void {
    if (stream === "stderr") {
      const { output, marker } = parseDriverLine(line, this.options.nonce);
      if (output !== undefined) this.text(output, stream);
      if (marker) this.marker(marker);
      return;
    }
    this.text(line, stream);
  }

  private text(line: string, stream: "stdout" | "stderr"): void {
    this.outputTail.push(line);
    if (this.outputTail.length > OUTPUT_TAIL_LINES) this.outputTail.shift();
    const { phase } = this.options;
    this.options.emit({ type: "output", phase, script: this.running, stream, line });
    this.options.output(line, stream);
  }

  private marker(marker: DriverMarker): void {
    const { phase, emit, log } = this.options;
    switch (marker.event) {
      case "env-start":
        this.sourcing = marker.name;
        log(`Sourcing environment file ${this.options.envDir}/${marker.name}`);
        emit({
          type: "environment-file",
          phase,
          file: marker.name,
          element: this.options.elementOf(`environment.d/${marker.name}`),
        });
        return;
      case "env-end":
        this.sourcing = undefined;
        return;
      case "start": {
        this.running = marker.name;
        this.index++;
        this.scriptStart = { at: marker.at, ms: this.now() };
        log(`Running ${this.options.phaseDir}/${marker.name}`);
        emit({
          type: "script-start",
          phase,
          script: marker.name,
          element: this.element(marker.name),
          index: this.index,
          total: this.options.scripts.length,
          elapsed: this.elapsed(),
        });
        return;
      }
      case "end": {
        const ms = this.now();
        const start = this.scriptStart ?? { at: undefined, ms };
        // The driver's clock when both ends have it; ours (less exact: pipe delays) otherwise.
        const seconds =
          marker.at !== undefined && start.at !== undefined
            ? Math.max(0, marker.at - start.at)
            : (ms - start.ms) / 1000;
        const timing: ScriptTiming = {
          script: marker.name,
          element: this.element(marker.name),
          seconds,
          exitCode: marker.exitCode ?? 0,
        };
        this.timings.push(timing);
        this.running = undefined;
        this.scriptStart = undefined;
        if (timing.exitCode !== 0) this.failed ??= timing;
        else log(`${marker.name} completed`);
        emit({ type: "script-end", phase, ...timing, elapsed: this.elapsed() });
        return;
      }
      case "finished":
        this.finished = true;
        return;
    }
  }
}
