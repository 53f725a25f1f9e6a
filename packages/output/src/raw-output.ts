import { rename, rm } from "node:fs/promises";
import type { OutputConverter } from "./converter.js";

/**
 * `-t raw`: the raw image itself, moved into place (a rename, or a sparse copy and a
 * removal across filesystems). It runs after every other conversion, since moving it
 * takes away their input.
 */
export const rawConverter: OutputConverter<"move"> = {
  input: "disk",
  async convert(step, rawImage, { host }) {
    try {
      await rename(rawImage, step.temp);
      return {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    }
    await host.run(["cp", "--sparse=always", rawImage, step.temp]);
    await rm(rawImage, { force: true });
    return {};
  },
};
