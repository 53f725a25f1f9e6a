import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host } from "@dib/host";
import { describe, expect, it } from "vitest";
import { imageUsageReport } from "./image-usage.js";

describe("imageUsageReport", () => {
  it("reports what du measures in the tree, 10 MiB and up unless full", async () => {
    const tree = mkdtempSync(join(tmpdir(), "dib-usage-"));
    try {
      mkdirSync(join(tree, "usr/lib"), { recursive: true });
      writeFileSync(join(tree, "usr/lib/big"), Buffer.alloc(12 * 1024 * 1024, 1));
      writeFileSync(join(tree, "small"), "x");
      const report = await imageUsageReport(new Host(), tree);
      expect(report.totalKiB).toBeGreaterThanOrEqual(12 * 1024);
      expect(report.lines[0]).toBe("Image size report (files > 10MiB)");
      expect(report.lines).toContain("  12MiB /usr/lib/big");
      expect(report.lines.some((l) => l.endsWith("/small"))).toBe(false);
      const full = await imageUsageReport(new Host(), tree, { full: true });
      expect(full.lines.some((l) => l.endsWith(" /small"))).toBe(true);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
