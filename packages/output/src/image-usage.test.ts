import { describe, expect, it } from "vitest";
import { formatImageUsage, humanKiB, parseDu } from "./image-usage.js";

describe("image usage report", () => {
  it("prints sizes as numfmt --to=iec-i --suffix=B --from-unit=1024 does", () => {
    // Expected values are numfmt's own output for the same inputs.
    const cases: [number, string][] = [
      [0, "0B"],
      [1, "1.0KiB"],
      [512, "512KiB"],
      [1023, "1023KiB"],
      [1024, "1.0MiB"],
      [1025, "1.1MiB"],
      [10239, "10MiB"],
      [10241, "11MiB"],
      [1048575, "1.0GiB"],
      [123456789, "118GiB"],
    ];
    for (const [kib, text] of cases) expect(humanKiB(kib), String(kib)).toBe(text);
  });

  it("parses du -a -c output and its total", () => {
    const du = parseDu("4\t/t/etc/os-release\n20480\t/t/usr\n20492\t/t\n20492\ttotal\n");
    expect(du.totalKiB).toBe(20492);
    expect(du.entries).toHaveLength(3);
  });

  it("shows entries of 10 MiB or more, largest first, framed like DIB's report", () => {
    const entries = [
      { kib: 4, path: "/t/etc/os-release" },
      { kib: 9 * 1024, path: "/t/var" },
      { kib: 20 * 1024, path: "/t/usr" },
      { kib: 30 * 1024, path: "/t" },
    ];
    expect(formatImageUsage(entries, { root: "/t" })).toEqual([
      "Image size report (files > 10MiB)",
      "  30MiB /",
      "  20MiB /usr",
      "===== end image size report =====",
    ]);
    expect(formatImageUsage(entries, { full: true, root: "/t" })).toHaveLength(6);
  });
});
