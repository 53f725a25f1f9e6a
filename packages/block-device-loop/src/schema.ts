import { z } from "zod";

const size = z.union([z.string(), z.number().nonnegative()]);

/** One `local_loop` entry. */
export const localLoopSchema = z.strictObject({
  name: z.string({ error: "local_loop config needs 'name'" }),
  /** Absolute size (`2GiB`, `5G`, bytes); default: the image size of the build. */
  size: size.optional(),
  /** Where `<name>.raw` goes; default: the build's image directory. */
  directory: z.string().optional(),
  /** Logical sector size of the loop device; DIB_BLOCK_SIZE overrides it. */
  block_size: z.coerce.number().int().positive().optional(),
});

export type LocalLoopConfig = z.infer<typeof localLoopSchema>;
