import { truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Host } from "../host.js";

/** A small sparse ext4 image file in `dir`, made without any loop device. */
export async function makeExt4Image(host: Host, dir: string, name = "disk.raw"): Promise<string> {
  const image = join(dir, name);
  writeFileSync(image, "");
  truncateSync(image, 32 * 1024 * 1024);
  await host.run(["mkfs.ext4", "-q", "-F", image]);
  return image;
}
