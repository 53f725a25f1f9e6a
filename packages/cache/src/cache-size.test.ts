import { describe, expect, it } from "vitest";
import { DEFAULT_CACHE_MAX_BYTES, parseCacheMax } from "./cache-size.js";

describe("parseCacheMax", () => {
  it("reads bytes and binary units", () => {
    expect(parseCacheMax(undefined)).toBe(DEFAULT_CACHE_MAX_BYTES);
    expect(parseCacheMax("")).toBe(DEFAULT_CACHE_MAX_BYTES);
    expect(parseCacheMax("1000")).toBe(1000);
    expect(parseCacheMax("2K")).toBe(2048);
    expect(parseCacheMax("1.5G")).toBe(1.5 * 1024 ** 3);
    expect(parseCacheMax("20GiB")).toBe(20 * 1024 ** 3);
  });

  it("refuses what is not a size", () => {
    expect(() => parseCacheMax("lots")).toThrow(/DIB_IMAGE_CACHE_MAX=lots is not a size/);
  });
});
