import { readdirSync, readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { DibError } from "@dib/errors";
import { execa, type ResultPromise, type Subprocess } from "execa";
import { TOOL_PACKAGES } from "./tools.js";

export interface RunOptions {
  cwd?: string;
  /** Variables to set; `undefined` removes one. Added to the process's environment unless `extendEnv` is false. */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  input?: string | Uint8Array;
  /** `inherit` streams the command's output to ours (hook scripts, debootstrap …). */
  stdio?: "pipe" | "inherit";
  /** Run the single string argv[0] through /bin/sh. Only where a pipeline really is needed. */
  shell?: boolean;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  /** Milliseconds before the command is killed. */
  timeout?: number;
  /** Called with each line the command prints (stdout and stderr) while it runs. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Extra words for the error hint when the command fails. */
  hint?: string;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface StreamedCommand {
  stdin: Writable;
  stdout: Readable;
  done: Promise<RunResult>;
}

export interface HostOptions {
  /** `-x`: print every command line before it runs. */
  trace?: boolean;
  /** Where trace and debug lines go (default: stderr). */
  log?: (line: string) => void;
}

const STDERR_TAIL_LINES = 20;

/** Every process below `pid`, from the parent links in /proc (taken before any is signalled). */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // the command name may contain spaces and parentheses: fields start after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(" ");
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * The only door to the host. Every process dib starts goes through `run` or `spawn`, so
 * tracing, error shape and the set of live children (ended on Ctrl-C) are in one place.
 */
export class Host {
  readonly trace: boolean;
  private readonly logLine: (line: string) => void;
  private readonly children = new Set<Subprocess>();

  constructor(options: HostOptions = {}) {
    this.trace = options.trace ?? false;
    this.logLine = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  log(line: string): void {
    this.logLine(line);
  }

  debug(line: string): void {
    if (this.trace) this.logLine(line);
  }

  /** Runs a command to completion. A non-zero exit is a DibError unless `allowFailure`. */
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new DibError("DIB_INTERNAL", "run() needs a command");
    const started = Date.now();
    if (this.trace) this.logLine(`+ ${options.shell ? argv[0] : formatArgv(argv)}`);
    const child = this.start(argv, options);
    return this.settle(argv, options, child, started);
  }

  /**
   * Starts a command whose stdin and stdout the caller feeds and drains as streams (a tar
   * of a whole image, a gzip filter): nothing of stdout is kept in memory, so the data may
   * be any size. `done` settles like run(): a RunResult with an empty stdout, or the same
   * DibError. End `stdin` when the command reads no input.
   */
  stream(
    argv: readonly string[],
    options: Omit<RunOptions, "input" | "stdio" | "onLine"> = {},
  ): StreamedCommand {
    if (argv.length === 0) throw new DibError("DIB_INTERNAL", "stream() needs a command");
    const started = Date.now();
    if (this.trace) this.logLine(`+ ${options.shell ? argv[0] : formatArgv(argv)}`);
    const child = this.start(argv, { ...options, streaming: true });
    const { stdin, stdout } = child;
    if (!stdin || !stdout) throw new DibError("DIB_INTERNAL", "stream() got no stdio pipes");
    return { stdin, stdout, done: this.settle(argv, options, child, started) };
  }

  private async settle(
    argv: readonly string[],
    options: RunOptions,
    child: ResultPromise,
    started: number,
  ): Promise<RunResult> {
    let result: Awaited<typeof child>;
    try {
      result = await child;
    } finally {
      this.children.delete(child);
    }
    const text = (value: unknown) =>
      typeof value === "string"
        ? value
        : value instanceof Uint8Array
          ? Buffer.from(value).toString("utf8")
          : "";
    const out: RunResult = {
      argv: [...argv],
      exitCode: result.exitCode ?? (result.signal ? 128 : 1),
      stdout: text(result.stdout),
      stderr: text(result.stderr),
      durationMs: Date.now() - started,
    };
    if (result.failed && (result as { code?: string }).code === "ENOENT") {
      const tool = argv[0] ?? "";
      const pkg = TOOL_PACKAGES[tool];
      throw new DibError("DIB_TOOL_MISSING", `${tool} is not installed`, {
        hint: pkg ? `apt-get install ${pkg}` : `install ${tool} and make sure it is on PATH`,
        details: { argv: out.argv },
      });
    }
    if (result.failed && !options.allowFailure) {
      const why = result.timedOut
        ? `timed out after ${options.timeout} ms`
        : result.signal
          ? `was killed by ${result.signal}`
          : `failed with exit code ${out.exitCode}`;
      const stderrTail = tail(out.stderr || out.stdout, STDERR_TAIL_LINES);
      throw new DibError("DIB_COMMAND_FAILED", `${formatArgv(argv).slice(0, 300)} ${why}`, {
        hint: [options.hint, stderrTail ? `its output ended with:\n${stderrTail}` : undefined]
          .filter(Boolean)
          .join("\n"),
        details: { argv: out.argv, exitCode: out.exitCode, stderrTail, signal: result.signal },
      });
    }
    return out;
  }

  /** Like run(), but the command's output goes to its own stdout/stderr. */
  async runInherit(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return this.run(argv, { ...options, stdio: "inherit" });
  }

  /**
   * Starts a long-running command (a QEMU guest, a chroot shell) and hands back the
   * process; it is ended with the others if dib is interrupted.
   */
  spawn(argv: readonly string[], options: RunOptions = {}): ResultPromise {
    if (this.trace) this.logLine(`+ ${formatArgv(argv)} &`);
    const child = this.start(argv, { ...options, allowFailure: true });
    child.finally(() => this.children.delete(child)).catch(() => {});
    return child;
  }

  /**
   * Ends every command still running and everything they started (a hook script and its
   * own children would otherwise be reparented to init and live on): SIGTERM, then
   * SIGKILL after `graceMs`.
   */
  async killChildren(graceMs = 2000): Promise<void> {
    const live = [...this.children];
    const pids = new Set<number>();
    for (const c of live) {
      if (c.pid === undefined) continue;
      pids.add(c.pid);
      for (const d of descendantsOf(c.pid)) pids.add(d);
    }
    signalAll(pids, "SIGTERM");
    await Promise.race([
      Promise.allSettled(live),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    signalAll(pids, "SIGKILL");
  }

  private start(
    argv: readonly string[],
    options: RunOptions & { streaming?: boolean },
  ): ResultPromise {
    const [file, ...args] = argv as [string, ...string[]];
    const inherit = options.stdio === "inherit";
    const streaming = options.streaming ?? false;
    const child = execa(file, args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: options.extendEnv ?? true,
      input: options.input,
      shell: options.shell ?? false,
      reject: false,
      timeout: options.timeout,
      stdin: streaming || options.input !== undefined ? "pipe" : inherit ? "inherit" : "ignore",
      stdout: inherit && !options.onLine ? "inherit" : "pipe",
      stderr: inherit && !options.onLine ? "inherit" : "pipe",
      stripFinalNewline: false,
      maxBuffer: 256 * 1024 * 1024,
      // A streamed stdout belongs to the caller: collecting it too would hold it all in memory.
      buffer: streaming ? { stdout: false, stderr: true } : true,
      encoding: streaming ? "buffer" : "utf8",
      // A hook that leaves a daemon holding our pipes must not hang the build.
      forceKillAfterDelay: 5000,
    });
    this.children.add(child);
    if (options.onLine) {
      const onLine = options.onLine;
      for (const stream of ["stdout", "stderr"] as const) {
        let buffered = "";
        child[stream]?.on("data", (chunk: Buffer | string) => {
          buffered += chunk.toString();
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) {
            onLine(line, stream);
            if (inherit) (stream === "stdout" ? process.stdout : process.stderr).write(`${line}\n`);
          }
        });
        child[stream]?.on("end", () => {
          if (buffered !== "") onLine(buffered, stream);
        });
      }
    }
    return child;
  }
}
