import { rename, rm } from "node:fs/promises";
import type { OutputConverter } from "./converter.js";

/**
 * `-t raw`: the raw image itself. Moved into place (a rename, or a sparse copy and a
 * removal across filesystems), or copied when the caller keeps its input. It runs after
 * every other conversion, since moving it takes away their input.
 */
export const rawConverter: OutputConverter<"move" | "copy"> = {
  input: "disk",
  async convert(step, rawImage, { host }) {
    if (step.via === "move") {
      try {
        await rename(rawImage, step.temp);
        return {};
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      }
    }
    await host.run(["cp", "--sparse=always", rawImage, step.temp]);
    if (step.via === "move") await rm(rawImage, { force: true });
    return {};
  },
};
