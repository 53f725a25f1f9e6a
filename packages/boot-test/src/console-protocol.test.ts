import { isDibError } from "@dib/host";
import { describe, expect, it } from "vitest";
import {
  commandInput,
  DEFAULT_PROMPT,
  logIn,
  runCommand,
  waitForPrompt,
  waitForShell,
} from "./console-protocol.js";
import { SerialConsole } from "./serial-console.js";

interface FakeGuestOptions {
  password?: string;
  /** Behave like bash 5: bracketed-paste toggles around every line read. */
  bash?: boolean;
  /** Throw away what is typed while login checks the password, as some logins do. */
  dropTypeahead?: boolean;
  /**
   * Keep only the end of the first line typed while login checks the password, from its
   * first quote on: the shell then waits at PS2 for the quote to close.
   */
  truncateTypeahead?: boolean;
  commands?: Record<string, { out: string; rc: number }>;
}

/**
 * A scripted guest on the other end of the console: a getty, a login that checks the
 * password, and a shell that understands the marker lines and a table of commands. It
 * echoes what is typed the way a tty does until `stty -echo`.
 */
class FakeGuest {
  readonly console: SerialConsole;
  readonly typed: string[] = [];
  private state: "login" | "password" | "checking" | "shell" = "login";
  private echo = true;
  private ps1 = "root@debian:~# ";
  private bracketedPaste: boolean;
  private lastRc = 0;
  private pending = "";
  private queued: string[] = [];
  private hung = false;
  private group: string[] | undefined;
  /** An unfinished command with an open single quote: the shell shows PS2 and reads on. */
  private openQuote = false;

  constructor(private readonly options: FakeGuestOptions = {}) {
    this.console = new SerialConsole((text) => this.receive(text));
    this.bracketedPaste = options.bash ?? false;
  }

  boot(): void {
    this.emit("[    0.000000] Linux version 6.1.0-28-amd64\r\n");
    this.emit(
      "[  \x1b[0;32mOK\x1b[0m  ] Started \x1b[0;1;39mssh.service\x1b[0m - OpenBSD Secure Shell server.\r\n",
    );
    this.emit("\r\nDebian GNU/Linux 12 debian ttyS0\r\n\r\ndebian lo");
    this.emit("gin: ");
  }

  emit(text: string): void {
    setImmediate(() => this.console.push(text));
  }

  private receive(text: string): void {
    this.typed.push(text);
    if (text === "\x03") {
      if (this.state === "shell") {
        this.openQuote = false;
        this.emit("^C\r\n");
        this.prompt();
      }
      return;
    }
    if (this.echo && this.state !== "password" && this.state !== "checking") {
      this.emit(text.replace(/\n/g, "\r\n"));
    }
    this.pending += text;
    const lines = this.pending.split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (this.hung) return;
    switch (this.state) {
      case "login":
        this.state = "password";
        this.emit("Password: ");
        return;
      case "password":
        if (line === (this.options.password ?? "secret")) {
          this.state = "checking";
          setTimeout(() => this.startShell(), 20);
        } else {
          this.emit("\r\nLogin incorrect\r\ndebian login: ");
          this.state = "login";
        }
        return;
      case "checking":
        if (this.options.truncateTypeahead && this.queued.length === 0) {
          this.queued.push(line.slice(line.indexOf("'") + 1));
        } else if (!this.options.dropTypeahead) this.queued.push(line);
        return;
      case "shell":
        this.execute(line);
    }
  }

  private startShell(): void {
    this.state = "shell";
    this.emit("Linux debian 6.1.0-28-amd64 #1 SMP Debian x86_64\r\n");
    this.prompt();
    for (const line of this.queued.splice(0)) this.execute(line);
  }

  private prompt(): void {
    this.emit(`${this.bracketedPaste ? "\x1b[?2004h" : ""}${this.ps1}`);
  }

  private execute(line: string): void {
    if (this.bracketedPaste) this.emit("\x1b[?2004l\r");
    if (this.openQuote || (line.match(/'/g)?.length ?? 0) % 2 === 1) {
      if ((line.match(/'/g)?.length ?? 0) % 2 === 1) this.openQuote = !this.openQuote;
      if (this.openQuote) {
        this.emit("> ");
        return;
      }
      this.lastRc = 127;
      this.prompt();
      return;
    }
    const begin = /^printf '__DIB_BEGIN_%s__\\n' (\d+); \{$/.exec(line);
    const end = /^\} <\/dev\/null; printf '\\n__DIB_RC_%s=%s\\n' (\d+) "\$\?"$/.exec(line);
    if (begin) {
      // A group is read whole before anything in it runs, as a shell does.
      this.emit(`__DIB_BEGIN_${begin[1]}__\r\n`);
      this.group = [];
      return;
    }
    if (this.group && !end) {
      this.group.push(line);
      return;
    }
    if (this.group && end) {
      const command = this.group.join("\n");
      this.group = undefined;
      this.run(command);
      if (this.hung) return;
      this.emit(`\r\n__DIB_RC_${end[1]}=${this.lastRc}\r\n`);
      this.prompt();
      return;
    }
    for (const part of line.split("; ")) this.run(part);
    this.prompt();
  }

  private run(part: string): void {
    const marker = /^printf '__DIB_READY_%s__\\n' (\d+)$/.exec(part);
    if (part === "stty -echo 2>/dev/null") this.echo = false;
    else if (part === "PS1=''") this.ps1 = "";
    else if (part === "bind 'set enable-bracketed-paste off' 2>/dev/null")
      this.bracketedPaste = false;
    else if (marker) {
      this.emit(`__DIB_READY_${marker[1]}__\r\n`);
    } else if (part.startsWith("sleep ")) {
      this.hung = true;
    } else if (this.options.commands?.[part]) {
      const reply = this.options.commands[part];
      this.emit(reply.out.replace(/\n/g, "\r\n"));
      this.lastRc = reply.rc;
    } else if (!/^(PS2=''|unset PROMPT_COMMAND|\(dmesg -n 1 .*)$/.test(part)) {
      this.emit(`-bash: ${part.split(" ")[0]}: command not found\r\n`);
      this.lastRc = 127;
    }
  }
}

const inSeconds = (s: number) => Date.now() + s * 1000;

async function bootAndLogIn(guest: FakeGuest, password = "secret") {
  guest.boot();
  const prompt = await waitForPrompt(guest.console, DEFAULT_PROMPT, inSeconds(2));
  return logIn(guest.console, { user: "root", password }, prompt.cursor, inSeconds(5), {
    probeIntervalMs: 100,
  });
}

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isDibError(error)) return error;
    throw error;
  }
  throw new Error("expected a DibError");
}

describe("the serial console protocol", () => {
  it("finds the getty prompt that arrives without a newline, after coloured boot messages", async () => {
    const guest = new FakeGuest();
    guest.boot();
    const prompt = await waitForPrompt(guest.console, DEFAULT_PROMPT, inSeconds(2));
    expect(prompt.text).toBe("debian login: ");
  });

  it("logs in and runs commands, reporting each output and exit status", async () => {
    const guest = new FakeGuest({
      bash: true,
      commands: {
        "uname -r": { out: "6.1.0-28-amd64\n", rc: 0 },
        "systemctl is-active ssh": { out: "inactive\n", rc: 3 },
        "printf 'a\\nb'": { out: "a\nb", rc: 0 },
        true: { out: "", rc: 0 },
      },
    });
    let cursor = await bootAndLogIn(guest);
    const results = [];
    for (const [i, command] of [
      "uname -r",
      "systemctl is-active ssh",
      "printf 'a\\nb'",
      "true",
    ].entries()) {
      const ran = await runCommand(guest.console, command, i + 1, cursor, inSeconds(2));
      results.push(ran.result);
      cursor = ran.cursor;
    }
    expect(results).toEqual([
      { command: "uname -r", output: "6.1.0-28-amd64", exitCode: 0 },
      { command: "systemctl is-active ssh", output: "inactive", exitCode: 3 },
      { command: "printf 'a\\nb'", output: "a\nb", exitCode: 0 },
      { command: "true", output: "", exitCode: 0 },
    ]);
  });

  it("types the command as one list the shell reads whole, with stdin from /dev/null", async () => {
    const guest = new FakeGuest({ commands: { "ls # a comment": { out: "x\n", rc: 0 } } });
    const cursor = await bootAndLogIn(guest);
    const ran = await runCommand(guest.console, "ls # a comment", 7, cursor, inSeconds(2));
    expect(ran.result.output).toBe("x");
    expect(guest.typed.at(-1)).toBe(
      "printf '__DIB_BEGIN_%s__\\n' 7; {\nls # a comment\n} </dev/null; printf '\\n__DIB_RC_%s=%s\\n' 7 \"$?\"\n",
    );
    expect(commandInput("  ", 1)).toContain("{\n:\n}");
  });

  it("asks the shell again when login threw away what was typed during the password check", async () => {
    const guest = new FakeGuest({
      dropTypeahead: true,
      commands: { id: { out: "uid=0(root)\n", rc: 0 } },
    });
    const cursor = await bootAndLogIn(guest);
    const ran = await runCommand(guest.console, "id", 1, cursor, inSeconds(2));
    expect(ran.result.output).toBe("uid=0(root)");
    expect(guest.typed.filter((t) => t.includes("__DIB_READY_")).length).toBeGreaterThan(1);
  });

  it("interrupts a shell left at PS2 by a probe that lost its start, then asks again", async () => {
    const guest = new FakeGuest({
      truncateTypeahead: true,
      commands: { id: { out: "uid=0(root)\n", rc: 0 } },
    });
    const cursor = await bootAndLogIn(guest);
    const ran = await runCommand(guest.console, "id", 1, cursor, inSeconds(2));
    expect(ran.result.output).toBe("uid=0(root)");
    expect(guest.typed).toContain("\x03");
  });

  it("fails with DIB_BOOT_LOGIN_FAILED when the guest answers Login incorrect", async () => {
    const guest = new FakeGuest();
    const error = await errorOf(bootAndLogIn(guest, "wrong"));
    expect(error.code).toBe("DIB_BOOT_LOGIN_FAILED");
  });

  it("gives up at once on a kernel panic instead of waiting for the timeout", async () => {
    const guest = new FakeGuest();
    guest.emit(
      "[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\n",
    );
    const started = Date.now();
    const error = await errorOf(waitForPrompt(guest.console, DEFAULT_PROMPT, inSeconds(30)));
    expect(error.code).toBe("DIB_BOOT_FAILED");
    expect(error.message).toContain("Unable to mount root fs");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("times out with DIB_BOOT_TIMEOUT when the prompt never comes", async () => {
    const guest = new FakeGuest();
    guest.emit("GRUB loading.\r\n");
    const error = await errorOf(waitForPrompt(guest.console, DEFAULT_PROMPT, Date.now() + 100));
    expect(error.code).toBe("DIB_BOOT_TIMEOUT");
  });

  it("waits for the caller's pattern instead of a login prompt", async () => {
    const guest = new FakeGuest();
    guest.emit("Welcome to the installer\r\nready> ");
    const prompt = await waitForPrompt(guest.console, /ready> $/, inSeconds(2));
    expect(prompt.text).toBe("ready> ");
  });

  it("runs commands on a console that is already a shell (autologin)", async () => {
    const guest = new FakeGuest({ commands: { hostname: { out: "debian\n", rc: 0 } } });
    // skip the getty: the guest is already at a shell prompt
    (guest as unknown as { state: string }).state = "shell";
    guest.emit("root@debian:~# ");
    const prompt = await waitForPrompt(guest.console, /# $/, inSeconds(2));
    const cursor = await waitForShell(guest.console, prompt.cursor, inSeconds(2), {
      probeIntervalMs: 100,
    });
    const ran = await runCommand(guest.console, "hostname", 1, cursor, inSeconds(2));
    expect(ran.result).toEqual({ command: "hostname", output: "debian", exitCode: 0 });
  });

  it("reports DIB_BOOT_GUEST_EXITED when the guest goes away in the middle of a command", async () => {
    const guest = new FakeGuest();
    const cursor = await bootAndLogIn(guest);
    const running = runCommand(guest.console, "sleep 100", 1, cursor, inSeconds(5));
    setTimeout(() => guest.console.close("QEMU exited (code 0)"), 30);
    const error = await errorOf(running);
    expect(error.code).toBe("DIB_BOOT_GUEST_EXITED");
  });
});
