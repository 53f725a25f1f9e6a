import { describe, expect, it } from "vitest";
import { planEnvironmentFiles } from "./environment-files.js";
import type { HookDirEntry } from "./hook-dir-entry.js";

const file = (name: string, more: Partial<HookDirEntry> = {}): HookDirEntry => ({
  name,
  kind: "file",
  symlink: false,
  executable: false,
  ...more,
});

describe("planEnvironmentFiles", () => {
  it("sources in byte order of the names, so 100-x comes before 20-y (DIB's full-path sort -n)", () => {
    const plan = planEnvironmentFiles(
      ["20-y.bash", "100-x.bash", "10-dib-init-system.bash", "01-a", "99-z.sh", "B", "a"].map((n) =>
        file(n),
      ),
    );
    expect(plan.source).toEqual([
      "01-a",
      "10-dib-init-system.bash",
      "100-x.bash",
      "20-y.bash",
      "99-z.sh",
      "B",
      "a",
    ]);
  });

  it("sources files whether or not they are executable, and symlinks to files", () => {
    const plan = planEnvironmentFiles([
      file("10-a", { executable: true }),
      file("20-b"),
      file("30-c", { symlink: true }),
    ]);
    expect(plan.source).toEqual(["10-a", "20-b", "30-c"]);
  });

  it("skips directories quietly and odd names or dangling links with a warning", () => {
    const plan = planEnvironmentFiles([
      file("10-a~"),
      file("20 b"),
      file("30-dir", { kind: "directory" }),
      file("40-gone", { kind: "dangling", symlink: true }),
      file("50-ok.bash"),
    ]);
    expect(plan.source).toEqual(["50-ok.bash"]);
    expect(plan.skipped.map((s) => [s.name, s.reason, s.warn])).toEqual([
      ["10-a~", "bad-name", true],
      ["20 b", "bad-name", true],
      ["30-dir", "directory", false],
      ["40-gone", "not-a-file", true],
    ]);
  });
});
