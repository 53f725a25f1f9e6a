import type { OutputConverter } from "./converter.js";
import { hashedFileWriter } from "./hashed-file.js";

/** `-t tar`: the tree's tar stream, as it is, hashed on its way to the file. */
export const tarConverter: OutputConverter<"tar"> = {
  input: "tar-stream",
  open(step, { algorithms }) {
    const writer = hashedFileWriter(step.temp, algorithms);
    return { input: writer.input, done: writer.done };
  },
};
