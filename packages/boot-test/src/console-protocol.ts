import { DibError } from "@dib/host";
import type { ConsoleCursor, ConsoleMatcher, SerialConsole } from "./serial-console.js";

export interface LoginCredentials {
  user: string;
  password: string;
}

export interface CommandResult {
  command: string;
  /** What the command printed on the console (stdout and stderr), without the final newline. */
  output: string;
  exitCode: number;
}

/** getty's prompt: "debian login: ", with no newline after it. */
export const DEFAULT_PROMPT = /login:\s*$/;

// Give up at once rather than wait for the timeout when the guest cannot get anywhere.
const FATAL: ConsoleMatcher[] = [
  { name: "panic", pattern: /Kernel panic - not syncing/ },
  { name: "emergency", pattern: /You are in emergency mode|Give root password for maintenance/ },
  { name: "no-boot-device", pattern: /No bootable device|Boot failed: not a bootable disk/ },
];

const PASSWORD_PROMPT = /[Pp]assword:\s*$/;
const LOGIN_INCORRECT = /Login incorrect|Authentication failure/;
/**
 * A probe echoed after the shell's continuation prompt (PS2, "> "): the shell is in the
 * middle of an unfinished command, such as an open quote left when the tty threw away the
 * start of a line typed while login handed over to the shell, and will read every later
 * probe as more of it. Seen under TCG on a loaded host.
 */
const CONTINUATION = /^> .*__DIB_READY_/;
/** Ctrl-C: makes an interactive shell drop the unfinished command. */
const INTERRUPT = "\x03";
/** How often to ask whether the shell after login is reading yet. */
export const READY_PROBE_INTERVAL_MS = 3000;

export interface ShellWaitOptions {
  /** Named in the error when the guest refuses the login. */
  user?: string;
  /** How long to wait for an answer before asking the shell again. */
  probeIntervalMs?: number;
}

// Quiet the console before running commands: no echo of what is typed, no prompt text in
// front of a command's output, no kernel messages in the middle of it. A failing part
// (busybox has no `bind`, a user may not set the console log level) does not matter.
const QUIET_CONSOLE = [
  "stty -echo 2>/dev/null",
  "PS1=''; PS2=''; unset PROMPT_COMMAND",
  "bind 'set enable-bracketed-paste off' 2>/dev/null",
  // An unprivileged user may still have password-less sudo (devuser does).
  "(dmesg -n 1 || sudo -n dmesg -n 1) >/dev/null 2>&1",
];
const QUIET_DONE = 1_000_000;

// Each marker is printed with printf, so the command as typed (or echoed) reads
// `__DIB_RC_%s=%s` and never matches what the marker looks like once printed.
const beginMarker = (n: number) => new RegExp(`__DIB_BEGIN_${n}__`);
const rcMarker = (n: number) => new RegExp(`__DIB_RC_${n}=(\\d+)`);
const readyMarker = (n: number) => new RegExp(`__DIB_READY_${n}__`);

function failure(code: string, message: string, hint?: string): DibError {
  return new DibError(code, message, hint === undefined ? {} : { hint });
}

function timeoutOrClosed(
  result: { kind: "timeout" } | { kind: "closed"; reason: string },
  waitingFor: string,
): DibError {
  if (result.kind === "closed") {
    return failure(
      "DIB_BOOT_GUEST_EXITED",
      `the guest went away while waiting for ${waitingFor}: ${result.reason}`,
    );
  }
  return failure(
    "DIB_BOOT_TIMEOUT",
    `timed out waiting for ${waitingFor}`,
    "raise --timeout, or look at the console lines below",
  );
}

function fatalError(name: string, text: string): DibError {
  return failure("DIB_BOOT_FAILED", `the guest did not boot (${name}): ${text.trim()}`);
}

/** Waits for the login prompt (or the caller's pattern); returns where reading goes on from. */
export async function waitForPrompt(
  console: SerialConsole,
  prompt: RegExp,
  deadline: number,
): Promise<{ cursor: ConsoleCursor; at: number; text: string }> {
  const result = await console.waitFor(
    [{ name: "prompt", pattern: prompt, partial: true }, ...FATAL],
    { line: 0, column: 0 },
    deadline,
  );
  if (result.kind !== "match") throw timeoutOrClosed(result, `the prompt ${prompt}`);
  if (result.name !== "prompt") throw fatalError(result.name, result.text);
  return { cursor: result.cursor, at: result.at, text: result.text };
}

/**
 * Answers getty and login, then makes sure a shell is reading: it asks again every few
 * seconds, since login may drop what was typed while it checked the password.
 */
export async function logIn(
  console: SerialConsole,
  credentials: LoginCredentials,
  from: ConsoleCursor,
  deadline: number,
  options: ShellWaitOptions = {},
): Promise<ConsoleCursor> {
  console.write(`${credentials.user}\n`);
  const asked = await console.waitFor(
    [
      { name: "password", pattern: PASSWORD_PROMPT, partial: true },
      { name: "incorrect", pattern: LOGIN_INCORRECT },
    ],
    from,
    Math.min(deadline, Date.now() + 30_000),
  );
  if (asked.kind !== "match") throw timeoutOrClosed(asked, "the password prompt");
  if (asked.name === "incorrect") throw loginRefused(credentials.user);
  console.write(`${credentials.password}\n`);
  return waitForShell(console, asked.cursor, deadline, { ...options, user: credentials.user });
}

function loginRefused(user: string): DibError {
  return failure(
    "DIB_BOOT_LOGIN_FAILED",
    `the guest refused the login of ${user}`,
    "check --login user:password",
  );
}

/** Sends a probe until a shell answers; then turns echo, prompts and console messages down. */
export async function waitForShell(
  console: SerialConsole,
  from: ConsoleCursor,
  deadline: number,
  options: ShellWaitOptions = {},
): Promise<ConsoleCursor> {
  const probeIntervalMs = options.probeIntervalMs ?? READY_PROBE_INTERVAL_MS;
  let cursor = from;
  for (let probe = 1; ; probe++) {
    if (Date.now() >= deadline)
      throw timeoutOrClosed({ kind: "timeout" }, "a shell after logging in");
    console.write(`printf '__DIB_READY_%s__\\n' ${probe}\n`);
    const result = await console.waitFor(
      [
        { name: "ready", pattern: /__DIB_READY_(\d+)__/ },
        { name: "incorrect", pattern: LOGIN_INCORRECT },
        { name: "continuation", pattern: CONTINUATION },
      ],
      cursor,
      Math.min(deadline, Date.now() + probeIntervalMs),
    );
    if (result.kind === "closed") throw timeoutOrClosed(result, "a shell after logging in");
    if (result.kind === "match" && result.name === "incorrect")
      throw loginRefused(options.user ?? "the user");
    if (result.kind === "match" && result.name === "continuation") {
      // Every probe already echoed there went into the same unfinished command: skip them.
      console.write(INTERRUPT);
      cursor = console.end();
      continue;
    }
    if (result.kind === "match") {
      cursor = result.cursor;
      break;
    }
  }
  console.write(`${[...QUIET_CONSOLE, `printf '__DIB_READY_%s__\\n' ${QUIET_DONE}`].join("; ")}\n`);
  const quiet = await console.waitFor(
    [{ name: "ready", pattern: readyMarker(QUIET_DONE) }],
    cursor,
    deadline,
  );
  if (quiet.kind !== "match") throw timeoutOrClosed(quiet, "the shell to take its settings");
  return quiet.cursor;
}

/**
 * What is typed to run one command: the whole thing is a single shell list, so the shell has
 * read all of it before the command starts. Lines typed ahead would otherwise be read by
 * whatever the command runs (sudo relays the terminal to its pty, and the end marker would
 * vanish into it). The command's stdin is /dev/null for the same reason; it sits in a group
 * on lines of its own, so a comment or a trailing `&` in it cannot swallow the end marker.
 */
export function commandInput(command: string, index: number): string {
  const body = command.trim() === "" ? ":" : command;
  return `printf '__DIB_BEGIN_%s__\\n' ${index}; {\n${body}\n} </dev/null; printf '\\n__DIB_RC_%s=%s\\n' ${index} "$?"\n`;
}

/**
 * Runs one command in the console shell. Its output is what appears between the start
 * marker and an end marker that carries `$?`.
 */
export async function runCommand(
  console: SerialConsole,
  command: string,
  index: number,
  from: ConsoleCursor,
  deadline: number,
): Promise<{ result: CommandResult; cursor: ConsoleCursor }> {
  console.write(commandInput(command, index));
  const begin = await console.waitFor(
    [{ name: "begin", pattern: beginMarker(index) }],
    from,
    deadline,
  );
  if (begin.kind !== "match")
    throw timeoutOrClosed(begin, `the start of command ${index} (${command})`);
  const end = await console.waitFor(
    [{ name: "rc", pattern: rcMarker(index) }],
    begin.cursor,
    deadline,
  );
  if (end.kind !== "match") throw timeoutOrClosed(end, `command ${index} to finish (${command})`);
  const lines = console.linesBetween(begin.cursor, end.cursor.line);
  // The first entry is the rest of the start marker's line. The end marker starts with a
  // newline of its own, so it is never glued to output that did not end in one; the empty
  // line that leaves after output that did end in one is not output.
  lines.shift();
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return {
    result: { command, output: lines.join("\n"), exitCode: Number(end.match[1]) },
    cursor: end.cursor,
  };
}
