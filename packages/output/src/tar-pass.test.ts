import { PassThrough, Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { fanOut } from "./tar-pass.js";

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe("fanOut", () => {
  it("gives every consumer the whole stream", async () => {
    const a = collector();
    const b = collector();
    await fanOut(Readable.from([Buffer.from("one "), Buffer.from("two")]), [a.stream, b.stream]);
    expect(a.text()).toBe("one two");
    expect(b.text()).toBe("one two");
  });

  it("stops the source and the other consumers when one fails", async () => {
    const source = new PassThrough();
    const good = collector();
    const bad = new Writable({
      write(_chunk, _enc, done) {
        done(new Error("disk full"));
      },
    });
    const flow = fanOut(source, [good.stream, bad]);
    source.write("data");
    await expect(flow).rejects.toThrow("disk full");
    expect(source.destroyed).toBe(true);
    expect(good.stream.destroyed).toBe(true);
  });
});
