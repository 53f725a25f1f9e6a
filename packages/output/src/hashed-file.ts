import { createWriteStream } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { WrittenFile } from "./archive-writer.js";
import { type ChecksumAlgorithm, HashingStream } from "./checksum.js";

/**
 * A writable that puts everything written to it into `path`, hashing it as it goes.
 * `done` settles once the file is closed.
 */
export function hashedFileWriter(
  path: string,
  algorithms: readonly ChecksumAlgorithm[],
): { input: Writable; done: Promise<WrittenFile> } {
  const tap = new HashingStream(algorithms);
  const done = pipeline(tap, createWriteStream(path)).then(() => ({
    digests: tap.digests(),
    bytes: tap.bytes,
  }));
  return { input: tap, done };
}

/** Copies a stream into `path`, hashing it as it goes. */
export async function writeHashedFile(
  source: Readable,
  path: string,
  algorithms: readonly ChecksumAlgorithm[],
): Promise<WrittenFile> {
  const tap = new HashingStream(algorithms);
  await pipeline(source, tap, createWriteStream(path));
  return { digests: tap.digests(), bytes: tap.bytes };
}
