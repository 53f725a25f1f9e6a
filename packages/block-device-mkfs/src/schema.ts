import { z } from "zod";

/** One `mkfs` entry. `type` of `mkfs_root` defaults to FS_TYPE (merged in before this). */
export const mkfsSchema = z.strictObject({
  name: z.string({ error: "Mkfs config needs name" }),
  base: z.string({ error: "Mkfs config needs base" }),
  type: z.string({ error: "Mkfs config needs type" }),
  /** Default: the name (upper-cased for vfat). */
  label: z.string().optional(),
  /** Extra mkfs options, one string split on blanks. */
  opts: z.string().optional(),
  /** Default: a random UUID. */
  uuid: z.string().optional(),
});

export type MkfsConfig = z.infer<typeof mkfsSchema>;
