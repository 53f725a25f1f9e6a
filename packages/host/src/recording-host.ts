import { Host, type RunOptions, type RunResult } from "./host.js";

/** What a RecordingHost answers a command with: its stdout (empty when undefined). */
export type RecordedResponse = (
  argv: readonly string[],
  options: RunOptions,
) => string | undefined | Promise<string | undefined>;

/**
 * A Host that records the command lines it is asked to run instead of running them, and
 * answers each with `respond`'s stdout (empty by default). For tests of the command
 * sequence that code taking a Host runs (a block-device level, say) where the real kernel
 * path is covered elsewhere: only `run` is replaced, so a Ledger opened on it records its
 * undo commands the same way.
 */
export class RecordingHost extends Host {
  /** Every argv `run` was given, in order. */
  readonly calls: string[][] = [];

  constructor(private readonly respond: RecordedResponse = () => undefined) {
    super({ log: () => {} });
  }

  override async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...argv]);
    const stdout = (await this.respond(argv, options)) ?? "";
    return { argv: [...argv], exitCode: 0, stdout, stderr: "", durationMs: 0 };
  }
}
