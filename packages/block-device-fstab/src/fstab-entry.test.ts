import { emptyState } from "@dib/block-device";
import { describe, expect, it } from "vitest";
import { fstabEntry } from "./fstab-entry.js";
import { fstabSchema } from "./schema.js";

const parse = (value: Record<string, unknown>) =>
  fstabSchema.parse({ name: "f", base: "mount_x", ...value });

describe("fstab entries", () => {
  it("default to defaults, dump 0 and fsck pass 2", () => {
    expect(fstabEntry(parse({}), emptyState())).toEqual({
      name: "f",
      base: "mount_x",
      options: "defaults",
      "dump-freq": 0,
      "fsck-passno": 2,
    });
  });

  it("take options, dump frequency and fsck pass from the config", () => {
    expect(
      fstabEntry(
        parse({ options: "rw,nodev,relatime", "dump-freq": 1, "fsck-passno": 1 }),
        emptyState(),
      ),
    ).toEqual({
      name: "f",
      base: "mount_x",
      options: "rw,nodev,relatime",
      "dump-freq": 1,
      "fsck-passno": 1,
    });
  });

  it("of swap are always sw 0 0", () => {
    const state = emptyState();
    state.mount.none = { name: "mount_x", base: "mkfs_swap", path: "none" };
    expect(fstabEntry(parse({ options: "defaults", "fsck-passno": 2 }), state)).toMatchObject({
      options: "sw",
      "dump-freq": 0,
      "fsck-passno": 0,
    });
  });

  it("reject a misspelt key that DIB would silently ignore", () => {
    const result = fstabSchema.safeParse({ name: "f", base: "m", options: "rw", "fck-passno": 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      code: "unrecognized_keys",
      keys: ["fck-passno"],
    });
  });
});
