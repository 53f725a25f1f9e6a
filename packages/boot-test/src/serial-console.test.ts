import { describe, expect, it } from "vitest";
import { cleanConsoleLine } from "./console-text.js";
import { SerialConsole } from "./serial-console.js";

const soon = () => Date.now() + 2000;

describe("cleanConsoleLine", () => {
  it("removes colours and bracketed-paste toggles and keeps what follows the last carriage return", () => {
    expect(cleanConsoleLine("[  \x1b[0;32mOK\x1b[0m  ] Started ssh.service.\r")).toBe(
      "[  OK  ] Started ssh.service.",
    );
    expect(cleanConsoleLine("\x1b[?2004h\x1b[?2004l\rhello\r")).toBe("hello");
    expect(cleanConsoleLine("progress 10%\rprogress 100%")).toBe("progress 100%");
  });
});

describe("SerialConsole", () => {
  it("joins lines split across chunks and reports each complete line once", async () => {
    const lines: string[] = [];
    const console = new SerialConsole(
      () => {},
      (l) => lines.push(l),
    );
    console.push("[    0.000000] Linux ver");
    console.push("sion 6.1\r\n[    0.1] more\r\nhalf");
    expect(lines).toEqual(["[    0.000000] Linux version 6.1", "[    0.1] more"]);
    expect(console.tail(2)).toEqual(["[    0.1] more", "half"]);
  });

  it("matches a prompt on the unfinished last line only for matchers that allow it", async () => {
    const console = new SerialConsole(() => {});
    console.push("\r\nDebian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: ");
    const notPartial = await console.waitFor(
      [{ name: "prompt", pattern: /login:\s*$/ }],
      { line: 0, column: 0 },
      Date.now() + 50,
    );
    expect(notPartial.kind).toBe("timeout");
    const partial = await console.waitFor(
      [{ name: "prompt", pattern: /login:\s*$/, partial: true }],
      { line: 0, column: 0 },
      soon(),
    );
    expect(partial.kind).toBe("match");
    if (partial.kind === "match") expect(partial.text).toBe("debian login: ");
  });

  it("resolves a wait when the pattern arrives later, and reads on from the cursor it returns", async () => {
    const console = new SerialConsole(() => {});
    const waiting = console.waitFor(
      [{ name: "a", pattern: /MARK/ }],
      { line: 0, column: 0 },
      soon(),
    );
    console.push("noise\nMARK one MARK two\n");
    const first = await waiting;
    expect(first.kind).toBe("match");
    if (first.kind !== "match") return;
    const second = await console.waitFor(
      [{ name: "a", pattern: /MARK (\w+)/ }],
      first.cursor,
      soon(),
    );
    expect(second.kind === "match" && second.match[1]).toBe("two");
  });

  it("ends a pending wait with `closed` when the guest goes away", async () => {
    const console = new SerialConsole(() => {});
    const waiting = console.waitFor(
      [{ name: "a", pattern: /never/ }],
      { line: 0, column: 0 },
      soon(),
    );
    console.close("QEMU exited (code 1)");
    expect(await waiting).toEqual({ kind: "closed", reason: "QEMU exited (code 1)" });
  });

  it("ends a wait with `timeout` at the deadline", async () => {
    const console = new SerialConsole(() => {});
    const started = Date.now();
    const result = await console.waitFor(
      [{ name: "a", pattern: /never/ }],
      { line: 0, column: 0 },
      started + 60,
    );
    expect(result.kind).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it("writes to the guest only while it is there", () => {
    const written: string[] = [];
    const console = new SerialConsole((t) => written.push(t));
    console.write("root\n");
    console.close("gone");
    console.write("ignored\n");
    expect(written).toEqual(["root\n"]);
  });
});
