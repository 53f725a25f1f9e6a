import { createReadStream, createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as createPack, type Headers, type Pack } from "tar-stream";
import { type ChecksumAlgorithm, type Digests, HashingStream } from "./checksum.js";

/** One member of a small archive dib writes itself (docker and OCI image archives). */
export type ArchiveMember =
  | { name: string; directory: true }
  | { name: string; content: string | Buffer }
  | { name: string; file: string; size: number };

export interface WrittenFile {
  digests: Digests;
  bytes: number;
}

function addMember(pack: Pack, member: ArchiveMember, mtime: Date): Promise<void> {
  const base: Headers = { name: member.name, mtime, uid: 0, gid: 0, uname: "", gname: "" };
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    if ("directory" in member) {
      pack.entry({ ...base, type: "directory", mode: 0o755 }, done);
    } else if ("content" in member) {
      pack.entry({ ...base, type: "file", mode: 0o644 }, Buffer.from(member.content), done);
    } else {
      const entry = pack.entry({ ...base, type: "file", mode: 0o644, size: member.size }, done);
      const source = createReadStream(member.file, { highWaterMark: 1 << 20 });
      source.on("error", (error) => {
        entry.destroy(error);
        reject(error);
      });
      source.pipe(entry);
    }
  });
}

/**
 * Writes a tar archive of the given members to `path`, hashing it on the way to the disk,
 * so the checksums need no second read. Members are added in order; owners are root and
 * every timestamp is `mtime`, so the same inputs give the same bytes.
 */
export async function writeArchive(
  path: string,
  members: readonly ArchiveMember[],
  options: { mtime: Date; algorithms: readonly ChecksumAlgorithm[] },
): Promise<WrittenFile> {
  const pack = createPack();
  const tap = new HashingStream(options.algorithms);
  const written = pipeline(pack as unknown as Readable, tap, createWriteStream(path));
  try {
    for (const member of members) await addMember(pack, member, options.mtime);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    await written.catch(() => {});
    throw error;
  }
  await written;
  return { digests: tap.digests(), bytes: tap.bytes };
}
