import { z } from "zod";

/** One `fstab` entry: how the image's /etc/fstab lists the mount `base`. */
export const fstabSchema = z.strictObject({
  name: z.string({ error: "Fstab config needs name" }),
  base: z.string({ error: "Fstab config needs base" }),
  options: z.string().default("defaults"),
  "dump-freq": z.coerce.number().int().nonnegative().default(0),
  "fsck-passno": z.coerce.number().int().nonnegative().default(2),
});

export type FstabConfig = z.infer<typeof fstabSchema>;
