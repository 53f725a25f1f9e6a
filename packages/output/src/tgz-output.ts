import type { OutputConverter } from "./converter.js";
import { writeHashedFile } from "./hashed-file.js";

/**
 * `-t tgz`: the tree's tar stream through DIB_GZIP_BIN `-9` (gzip, pigz …) into the file,
 * compressed as it streams rather than from a tar file written first.
 */
export const tgzConverter: OutputConverter<"gzip"> = {
  input: "tar-stream",
  open(step, { host, algorithms }) {
    const gzip = host.stream([...step.gzip, "-9", "-c"]);
    const written = writeHashedFile(gzip.stdout, step.temp, algorithms);
    const done = Promise.all([gzip.done, written]).then(([, file]) => file);
    return { input: gzip.stdin, done };
  },
};
