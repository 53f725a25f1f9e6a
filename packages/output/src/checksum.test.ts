import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isDibError } from "@dib/host";
import { describe, expect, it } from "vitest";
import {
  checksumFileName,
  checksumLine,
  HashingStream,
  hashFile,
  parseChecksumSetting,
} from "./checksum.js";

describe("checksums", () => {
  it("reads DIB_CHECKSUM: 0 and empty for none, 1 for md5 and sha256, or a list", () => {
    expect(parseChecksumSetting(undefined)).toEqual([]);
    expect(parseChecksumSetting("")).toEqual([]);
    expect(parseChecksumSetting("0")).toEqual([]);
    expect(parseChecksumSetting(false)).toEqual([]);
    expect(parseChecksumSetting("1")).toEqual(["md5", "sha256"]);
    expect(parseChecksumSetting(true)).toEqual(["md5", "sha256"]);
    expect(parseChecksumSetting("sha256")).toEqual(["sha256"]);
    expect(parseChecksumSetting("sha256,md5")).toEqual(["md5", "sha256"]);
    expect(parseChecksumSetting(["MD5"])).toEqual(["md5"]);
  });

  it("rejects an algorithm it cannot write", () => {
    let error: unknown;
    try {
      parseChecksumSetting("md5,crc32");
    } catch (e) {
      error = e;
    }
    expect(isDibError(error, "DIB_OUTPUT_CHECKSUM")).toBe(true);
    expect((error as Error).message).toContain("crc32");
  });

  it("writes one md5sum -c line: digest, two spaces, the file's base name", () => {
    expect(checksumLine("d41d8cd98f00b204e9800998ecf8427e", "/out/dir/image.qcow2")).toBe(
      "d41d8cd98f00b204e9800998ecf8427e  image.qcow2\n",
    );
    expect(checksumFileName("out/image.qcow2", "sha256")).toBe("out/image.qcow2.sha256");
  });

  it("hashes what streams through it without changing it", async () => {
    const data = Buffer.from("x".repeat(100_000));
    const tap = new HashingStream(["md5", "sha256"]);
    const seen: Buffer[] = [];
    await pipeline(
      Readable.from([data.subarray(0, 3000), data.subarray(3000)]),
      tap,
      async (source) => {
        for await (const chunk of source) seen.push(chunk as Buffer);
      },
    );
    expect(Buffer.concat(seen).equals(data)).toBe(true);
    expect(tap.bytes).toBe(data.length);
    expect(tap.digests()).toEqual({
      md5: createHash("md5").update(data).digest("hex"),
      sha256: createHash("sha256").update(data).digest("hex"),
    });
  });

  it("hashes a file written by another program", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-checksum-"));
    try {
      const file = join(dir, "f");
      writeFileSync(file, "hello\n");
      expect(await hashFile(file, ["sha256"])).toEqual({
        sha256: createHash("sha256").update("hello\n").digest("hex"),
      });
      expect(await hashFile(file, [])).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
