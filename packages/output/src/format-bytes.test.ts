import { describe, expect, it } from "vitest";
import { formatBytes } from "./format-bytes.js";

describe("formatBytes", () => {
  it("prints bytes whole and larger sizes in binary units with one decimal", () => {
    expect([0, 512, 1023].map(formatBytes)).toEqual(["0 B", "512 B", "1023 B"]);
    expect([1536, 182 * 2 ** 20, 5 * 1024 ** 3].map(formatBytes)).toEqual([
      "1.5 KiB",
      "182.0 MiB",
      "5.0 GiB",
    ]);
  });

  it("stops at the largest unit it knows", () => {
    expect(formatBytes(3 * 1024 ** 6)).toBe("3072.0 PiB");
  });
});
