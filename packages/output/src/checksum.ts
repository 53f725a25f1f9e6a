import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DibError } from "@dib/host";

export type ChecksumAlgorithm = "md5" | "sha256";
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ["md5", "sha256"];

export type Digests = Partial<Record<ChecksumAlgorithm, string>>;

/**
 * `--checksum` / DIB_CHECKSUM: `0`, empty or false for none; `1` or true for md5 and
 * sha256; otherwise a comma (or space) list of algorithm names. An array passes through
 * after the same validation.
 */
export function parseChecksumSetting(
  value: string | boolean | readonly string[] | undefined,
): ChecksumAlgorithm[] {
  if (value === undefined || value === false) return [];
  if (value === true) return [...CHECKSUM_ALGORITHMS];
  const names = typeof value === "string" ? value.split(/[\s,]+/) : [...value];
  const wanted = names.map((n) => n.trim().toLowerCase()).filter((n) => n !== "");
  if (wanted.length === 0 || (wanted.length === 1 && wanted[0] === "0")) return [];
  if (wanted.length === 1 && wanted[0] === "1") return [...CHECKSUM_ALGORITHMS];
  const unknown = wanted.filter((n) => !(CHECKSUM_ALGORITHMS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new DibError("DIB_OUTPUT_CHECKSUM", `unknown checksum algorithm: ${unknown.join(", ")}`, {
      hint: `DIB_CHECKSUM is 0, 1 (md5 and sha256) or a comma list of: ${CHECKSUM_ALGORITHMS.join(", ")}`,
    });
  }
  return CHECKSUM_ALGORITHMS.filter((a) => wanted.includes(a));
}

/** The checksum file written beside `file`: `NAME.qcow2.md5`. */
export function checksumFileName(file: string, algorithm: ChecksumAlgorithm): string {
  return `${file}.${algorithm}`;
}

/**
 * One line as md5sum/sha256sum print it, naming the file by its base name so that
 * `cd DIR && sha256sum -c NAME.qcow2.sha256` verifies wherever the pair is moved.
 */
export function checksumLine(digest: string, file: string): string {
  return `${digest}  ${basename(file)}\n`;
}

/** A pass-through stream that hashes what flows through it and counts the bytes. */
export class HashingStream extends Transform {
  private readonly hashes: [ChecksumAlgorithm, Hash][];
  bytes = 0;

  constructor(algorithms: readonly ChecksumAlgorithm[]) {
    super();
    this.hashes = [...new Set(algorithms)].map((a) => [a, createHash(a)]);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (const [, hash] of this.hashes) hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** The hex digests; call once, after the stream has ended. */
  digests(): Digests {
    const out: Digests = {};
    for (const [algorithm, hash] of this.hashes) out[algorithm] = hash.digest("hex");
    return out;
  }
}

/** Hashes a file that some other program wrote (qemu-img, mksquashfs) by reading it once. */
export async function hashFile(
  file: string,
  algorithms: readonly ChecksumAlgorithm[],
): Promise<Digests> {
  if (algorithms.length === 0) return {};
  const tap = new HashingStream(algorithms);
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), tap, async (source) => {
    for await (const _ of source) {
      // the tap does the work; this only drains it
    }
  });
  return tap.digests();
}
