import { Host, type RunOptions, type RunResult } from "@dib/host";

/**
 * A Host that records command lines instead of running them, for quick checks of a
 * command sequence (the real kernel path is covered by the integration tests).
 */
export class RecordingHost extends Host {
  readonly calls: string[][] = [];

  constructor() {
    super({ log: () => {} });
  }

  override async run(argv: readonly string[], _options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...argv]);
    return { argv: [...argv], exitCode: 0, stdout: "", stderr: "", durationMs: 0 };
  }
}
