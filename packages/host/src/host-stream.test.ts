import { isDibError } from "@dib/errors";
import { describe, expect, it } from "vitest";
import { Host } from "./host.js";

describe("Host.stream", () => {
  it("passes data through a command's stdin and stdout without collecting it", async () => {
    const host = new Host();
    const cat = host.stream(["cat"]);
    const received: Buffer[] = [];
    cat.stdout.on("data", (chunk: Buffer) => received.push(chunk));
    const block = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 8; i++) cat.stdin.write(block);
    cat.stdin.end();
    const result = await cat.done;
    expect(Buffer.concat(received).length).toBe(8 << 20);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("");
  });

  it("fails like run(): a DibError with the exit code and the end of stderr", async () => {
    const host = new Host();
    const failing = host.stream(["sh", "-c", "echo 'no space left' >&2; exit 3"]);
    failing.stdin.end();
    failing.stdout.resume();
    const error = await failing.done.catch((e) => e);
    expect(isDibError(error, "DIB_COMMAND_FAILED")).toBe(true);
    expect(error.details).toMatchObject({ exitCode: 3, stderrTail: "no space left" });
  });
});
