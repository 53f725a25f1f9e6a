import { createHash } from "node:crypto";
import type { OciPlatform } from "./docker-reference.js";

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The image config both archive formats carry (docker's and OCI's share these fields):
 * the platform, one layer's diff_id and a history line. Like `docker import`, no command
 * is set; the PATH is the one every distribution expects.
 */
export function imageConfigJson(options: {
  platform: OciPlatform;
  /** sha256 of the uncompressed layer tar, hex. */
  diffId: string;
  created: Date;
}): string {
  const created = options.created.toISOString();
  return JSON.stringify({
    created,
    architecture: options.platform.architecture,
    ...(options.platform.variant ? { variant: options.platform.variant } : {}),
    os: options.platform.os,
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${options.diffId}`] },
    history: [{ created, created_by: "dib-cli", comment: "root tree of the disk image" }],
  });
}
