import { describe, expect, it } from "vitest";
import { formatProfilingTable } from "./profiling-table.js";

describe("formatProfilingTable", () => {
  it("prints DIB's PROFILING layout, rows sorted by name as sort -n does", () => {
    const lines = formatProfilingTable("install.d", [
      { script: "100-late", element: "b", seconds: 0.5, exitCode: 0 },
      { script: "5-early", element: "a", seconds: 12.3456, exitCode: 0 },
    ]);
    expect(lines[0]).toBe("----------------------- PROFILING -----------------------");
    expect(lines).toContain("Target: install.d");
    const rows = lines.filter((l) => /\d\.\d{3}$/.test(l));
    expect(rows).toEqual([
      `${"5-early".padEnd(40)}     12.346`,
      `${"100-late".padEnd(40)}      0.500`,
    ]);
    expect(lines.at(-1)).toBe("--------------------- END PROFILING ---------------------");
  });
});
