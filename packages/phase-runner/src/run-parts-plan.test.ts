import { describe, expect, it } from "vitest";
import type { HookDirEntry } from "./hook-dir-entry.js";
import { planRunParts } from "./run-parts-plan.js";

const script = (name: string, more: Partial<HookDirEntry> = {}): HookDirEntry => ({
  name,
  kind: "file",
  symlink: false,
  executable: true,
  ...more,
});

describe("planRunParts", () => {
  it("runs 5-a before 10-b before 100-c, and foo before 01-x", () => {
    const plan = planRunParts(["100-c", "01-x", "10-b", "5-a", "foo"].map((n) => script(n)));
    expect(plan.run).toEqual(["foo", "01-x", "5-a", "10-b", "100-c"]);
    expect(plan.skipped).toEqual([]);
  });

  it("breaks ties of equal numbers by byte order (uppercase before lowercase, 01 before 1)", () => {
    const plan = planRunParts(["10-b", "10-a", "10-B", "010-z", "10_a"].map((n) => script(n)));
    expect(plan.run).toEqual(["010-z", "10-B", "10-a", "10-b", "10_a"]);
  });

  it("skips a dotted name with a warning where DIB skips it silently", () => {
    const plan = planRunParts([script("10-foo.sh"), script("20-bar")]);
    expect(plan.run).toEqual(["20-bar"]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({ name: "10-foo.sh", reason: "bad-name", warn: true }),
    ]);
    expect(plan.skipped[0]?.message).toMatch(/letters, digits/);
  });

  it("skips non-executable files with a warning", () => {
    const plan = planRunParts([script("10-data", { executable: false }), script("20-run")]);
    expect(plan.run).toEqual(["20-run"]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({ name: "10-data", reason: "not-executable", warn: true }),
    ]);
  });

  it("runs a symlink to an executable file, but never descends into a directory", () => {
    const plan = planRunParts([
      script("10-link", { symlink: true }),
      script("20-dir", { kind: "directory" }),
      script("30-linkdir", { kind: "directory", symlink: true }),
      script("40-broken", { kind: "dangling", symlink: true, executable: false }),
      script("50-fifo", { kind: "other" }),
    ]);
    expect(plan.run).toEqual(["10-link"]);
    expect(plan.skipped.map((s) => [s.name, s.reason, s.warn])).toEqual([
      ["20-dir", "directory", false],
      ["30-linkdir", "directory", false],
      ["40-broken", "not-a-file", true],
      ["50-fifo", "not-a-file", true],
    ]);
  });

  it("accepts names made of letters, digits, '-' and '_' only", () => {
    const names = ["ok_1", "OK-2", "with space", "tilde~", "plus+", "ümlaut", "x.y"];
    const plan = planRunParts(names.map((n) => script(n)));
    expect(plan.run).toEqual(["OK-2", "ok_1"]);
    expect(plan.skipped.map((s) => s.name).sort()).toEqual(
      ["plus+", "tilde~", "with space", "x.y", "ümlaut"].sort(),
    );
  });
});
