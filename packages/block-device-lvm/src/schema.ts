import { z } from "zod";

function text(missing: string, what: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? missing : `${what} must be a string`),
  });
}

const options = z.array(z.string(), { error: "'options' must be a list of strings" }).optional();
const nameOrNames = z.union([z.string(), z.array(z.string())]);

/** A physical volume on a block device (usually a partition). */
export const pvSchema = z.strictObject({
  name: text("Missing 'name' in pvs config", "pvs 'name'"),
  base: text("Missing 'base' in pvs_config", "pvs 'base'"),
  options,
});

/** A volume group over physical volumes named in `base` (a list, as in DIB). */
export const vgSchema = z.strictObject({
  name: text("Missing 'name' in vgs config", "vgs 'name'"),
  base: nameOrNames.optional(),
  options,
});

/** A logical volume in the volume group named in `base`. */
export const lvSchema = z.strictObject({
  name: text("Missing 'name' in lvs config", "lvs 'name'"),
  // A list is accepted here only so that DIB's own message can name it.
  base: nameOrNames.optional(),
  /** An absolute size, rounded down to a multiple of 4 MiB. */
  size: z.union([z.string(), z.number()]).optional(),
  /** lvcreate's `-l`: `40%VG`, `100%FREE`, a count of extents. */
  extents: z.union([z.string(), z.number()]).optional(),
  /** `thin-pool` or `thin`; anything else is refused with DIB's message. */
  type: z.string().optional(),
  "thin-pool": z.string().optional(),
  options,
});

/** An `lvm` entry: physical volumes, volume groups and logical volumes, created together. */
export const lvmSchema = z.strictObject({
  name: text("Lvm config requires 'name'", "lvm 'name'"),
  /** Ignored, as in DIB: the edges come from the physical volumes' bases. */
  base: nameOrNames.optional(),
  pvs: z.array(pvSchema, {
    error: (i) => (i.input === undefined ? "Lvm config requires a 'pvs'" : "'pvs' must be a list"),
  }),
  vgs: z.array(vgSchema, {
    error: (i) => (i.input === undefined ? "Lvm config needs 'vgs'" : "'vgs' must be a list"),
  }),
  lvs: z.array(lvSchema, {
    error: (i) => (i.input === undefined ? "Lvm config needs 'lvs'" : "'lvs' must be a list"),
  }),
});

export type PvConfig = z.infer<typeof pvSchema>;
export type VgConfig = z.infer<typeof vgSchema>;
export type LvConfig = z.infer<typeof lvSchema>;
export type LvmConfig = z.infer<typeof lvmSchema>;
