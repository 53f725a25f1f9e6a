import { z } from "zod";

/** One `mount` entry: where the filesystem `base` goes in the image's tree. */
export const mountSchema = z.strictObject({
  name: z.string({ error: "MountPoint config needs name" }),
  base: z.string({ error: "MountPoint config needs base" }),
  /** `/`, `/boot/efi`, … (`none` for swap). */
  mount_point: z.string({ error: "MountPoint config needs mount_point" }),
});

export type MountConfig = z.infer<typeof mountSchema>;
