import { cleanConsoleLine } from "./console-text.js";

/** One pattern a wait is looking for; `partial` also tries the unfinished last line (prompts). */
export interface ConsoleMatcher {
  name: string;
  pattern: RegExp;
  partial?: boolean;
}

/** Where the console has been read up to: a line index and a column in that line. */
export interface ConsoleCursor {
  line: number;
  column: number;
}

export type ConsoleWaitResult =
  | {
      kind: "match";
      name: string;
      match: RegExpExecArray;
      /** The line the match is on (cleaned); for a partial line, what has arrived so far. */
      text: string;
      /** Right after the match: pass it to the next wait to read on from there. */
      cursor: ConsoleCursor;
      at: number;
    }
  | { kind: "timeout" }
  | { kind: "closed"; reason: string };

interface Waiter {
  matchers: ConsoleMatcher[];
  from: ConsoleCursor;
  resolve: (result: ConsoleWaitResult) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The guest's serial console as lines: bytes are pushed in as they arrive, and a caller
 * waits for a pattern from a cursor on. Writing goes to whatever carries the guest's input.
 */
export class SerialConsole {
  private readonly complete: string[] = [];
  private rawPartial = "";
  private waiter: Waiter | undefined;
  private closedReason: string | undefined;

  constructor(
    private readonly writer: (text: string) => void,
    private readonly onLine?: (line: string) => void,
  ) {}

  /** Feeds console output in; complete lines are reported to `onLine`. */
  push(chunk: string): void {
    const parts = (this.rawPartial + chunk).split("\n");
    this.rawPartial = parts.pop() ?? "";
    for (const raw of parts) {
      const line = cleanConsoleLine(raw);
      this.complete.push(line);
      this.onLine?.(line);
    }
    this.check();
  }

  /** The guest is gone (QEMU exited, socket closed): a pending wait ends now. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.rawPartial !== "") this.onLine?.(cleanConsoleLine(this.rawPartial));
    this.check();
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  write(text: string): void {
    if (this.closedReason === undefined) this.writer(text);
  }

  /** A cursor at the end of everything received so far. */
  end(): ConsoleCursor {
    return { line: this.complete.length, column: cleanConsoleLine(this.rawPartial).length };
  }

  /** Complete lines from `from` (its column on) up to, not including, line `to`. */
  linesBetween(from: ConsoleCursor, to: number): string[] {
    const out: string[] = [];
    for (let i = from.line; i < to && i < this.complete.length; i++) {
      const line = this.complete[i] ?? "";
      out.push(i === from.line ? line.slice(from.column) : line);
    }
    return out;
  }

  /** The last `count` lines, the unfinished one included when it has text. */
  tail(count: number): string[] {
    const partial = cleanConsoleLine(this.rawPartial);
    const all = partial === "" ? this.complete : [...this.complete, partial];
    return all.slice(-count);
  }

  /**
   * Resolves with the first match of any matcher at or after `from`, lines in order; or
   * with `timeout` at `deadline` (epoch ms), or `closed` when the guest goes away first.
   */
  waitFor(
    matchers: ConsoleMatcher[],
    from: ConsoleCursor,
    deadline: number,
  ): Promise<ConsoleWaitResult> {
    if (this.waiter) throw new Error("SerialConsole: one wait at a time");
    return new Promise((resolve) => {
      const waiter: Waiter = { matchers, from, resolve, timer: undefined };
      this.waiter = waiter;
      const delay = deadline - Date.now();
      waiter.timer = setTimeout(() => this.settle(waiter, { kind: "timeout" }), Math.max(0, delay));
      this.check();
    });
  }

  private settle(waiter: Waiter, result: ConsoleWaitResult): void {
    if (this.waiter !== waiter) return;
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve(result);
  }

  private check(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const found = this.search(waiter);
    if (found) {
      this.settle(waiter, found);
      return;
    }
    // Complete lines never change: the next search can start at the unfinished one.
    const partialIndex = this.complete.length;
    if (waiter.from.line < partialIndex) waiter.from = { line: partialIndex, column: 0 };
    if (this.closedReason !== undefined)
      this.settle(waiter, { kind: "closed", reason: this.closedReason });
  }

  private search(waiter: Waiter): ConsoleWaitResult | undefined {
    const partialIndex = this.complete.length;
    const partial = cleanConsoleLine(this.rawPartial);
    for (let i = waiter.from.line; i <= partialIndex; i++) {
      const isPartial = i === partialIndex;
      const line = isPartial ? partial : (this.complete[i] ?? "");
      const column = i === waiter.from.line ? Math.min(waiter.from.column, line.length) : 0;
      const rest = line.slice(column);
      for (const matcher of waiter.matchers) {
        if (isPartial && !matcher.partial && this.closedReason === undefined) continue;
        const match = new RegExp(
          matcher.pattern.source,
          matcher.pattern.flags.replace("g", ""),
        ).exec(rest);
        if (match) {
          return {
            kind: "match",
            name: matcher.name,
            match,
            text: line,
            cursor: { line: i, column: column + match.index + match[0].length },
            at: Date.now(),
          };
        }
      }
    }
    return undefined;
  }
}
