import { z } from "zod";
import { mountPointProblem } from "./mount-point.js";

/** One `mount` entry: where the filesystem `base` goes in the image's tree. */
export const mountSchema = z.strictObject({
  name: z.string({ error: "MountPoint config needs name" }),
  base: z.string({ error: "MountPoint config needs base" }),
  /** `/`, `/boot/efi`, … (`none` for swap): absolute, normalised, without `..`. */
  mount_point: z
    .string({ error: "MountPoint config needs mount_point" })
    .superRefine((value, ctx) => {
      const problem = mountPointProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
});

export type MountConfig = z.infer<typeof mountSchema>;
