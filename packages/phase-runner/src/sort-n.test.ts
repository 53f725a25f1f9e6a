import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { compareBytes, compareSortN } from "./sort-n.js";

const NAMES = [
  "10-b",
  "5-a",
  "100-c",
  "foo",
  "01-x",
  "1-x",
  "0-a",
  "-5x",
  "-",
  "-x",
  "--1",
  "-0",
  "-01",
  "00",
  "A",
  "a",
  "_z",
  "Z-1",
  "2_a",
  "2-a",
  "2a",
  "2",
  "9999999999999999999999-a",
  "10000000000000000000000",
  "50-zz",
  "050-aa",
];

describe("compareSortN", () => {
  it("orders by the leading number, then by bytes: 5-a < 10-b < 100-c, foo before 01-x", () => {
    expect(["100-c", "01-x", "10-b", "foo", "5-a"].sort(compareSortN)).toEqual([
      "foo",
      "01-x",
      "5-a",
      "10-b",
      "100-c",
    ]);
  });

  it("agrees with LC_ALL=C sort -n on awkward names (signs, zeros, huge numbers)", () => {
    const expected = execFileSync("sort", ["-n"], {
      input: `${NAMES.join("\n")}\n`,
      env: { ...process.env, LC_ALL: "C" },
      encoding: "utf8",
    })
      .trimEnd()
      .split("\n");
    expect([...NAMES].sort(compareSortN)).toEqual(expected);
  });

  it("compares bytes, not UTF-16 units", () => {
    expect(compareBytes("\u{ff61}", "\u{1f600}")).toBeLessThan(0);
    expect(compareBytes("B", "a")).toBeLessThan(0);
  });
});
