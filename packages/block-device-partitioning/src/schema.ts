import { z } from "zod";

function required(what: string, missing: string) {
  return (issue: { input: unknown }) =>
    issue.input === undefined ? missing : `${what} must be a string`;
}

/** One partition of a `partitioning` entry, after tree→graph conversion (nested levels removed). */
export const partitionSchema = z.strictObject({
  name: z.string({ error: required("partition 'name'", "Missing 'name' in partition config") }),
  /** Filled in by the tree→graph conversion: the disk, not the partitioning. */
  base: z.string().optional(),
  /** Absolute (`550MiB`, `40G`) or relative to the space still free (`100%`). */
  size: z.union([z.string(), z.number()], {
    error: (issue) =>
      issue.input === undefined
        ? "Missing 'size' in partition config"
        : "partition 'size' must be a size such as '8MiB' or '100%'",
  }),
  /** `boot` and `primary` (MBR only). */
  flags: z.array(z.string()).optional(),
  /** MBR: a hex byte as a string ('0x83', '83', 'EF'); GPT: an sgdisk code ('8300') or a GUID. */
  type: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? "partition 'type' is missing"
          : `partition type must be a quoted string, e.g. '0x${String(issue.input)}' or '${String(issue.input)}': an unquoted number is ambiguous`,
    })
    .optional(),
});

/** A `partitioning` entry: a partition table on the disk named by `base`. */
export const partitioningSchema = z.strictObject({
  /** Only used for tree naming; the partitioning itself is not a graph node. */
  name: z.string().optional(),
  base: z.string({ error: required("partitioning 'base'", "Partitioning config needs 'base'") }),
  label: z.enum(["mbr", "gpt"], { error: "Label must be 'mbr' or 'gpt'" }),
  /** MBR only: partition starts are aligned to this many bytes (default 1MiB). */
  align: z.union([z.string(), z.number()]).optional(),
  partitions: z.array(partitionSchema, {
    error: (issue) =>
      issue.input === undefined
        ? "Partitioning config needs 'partitions'"
        : "partitioning 'partitions' must be a list",
  }),
});

export type PartitionConfig = z.infer<typeof partitionSchema>;
export type PartitioningConfig = z.infer<typeof partitioningSchema>;
