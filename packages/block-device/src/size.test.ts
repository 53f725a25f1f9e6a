import { describe, expect, it } from "vitest";
import { parseAbsoluteSize, parseRelativeSize } from "./size.js";

describe("parseAbsoluteSize", () => {
  it.each([
    ["20TiB", 20 * 1024 ** 4],
    ["1024KiB", 1048576],
    ["154MiB", 161480704],
    ["8MiB", 8 * 1024 * 1024],
    ["1.2TB", 1.2e12],
    ["2.4T", 2.4e12],
    ["40G", 40e9],
    ["1800M", 1.8e9],
    ["1 GiB", 1024 ** 3],
    ["512B", 512],
    ["364", 364],
    ["198", 198],
    ["MiB", 1024 * 1024],
    ["1.5KiB", 1536],
  ])("reads %s as %d bytes", (spec, bytes) => {
    expect(parseAbsoluteSize(spec)).toBe(bytes);
  });

  it("takes a YAML integer as bytes", () => {
    expect(parseAbsoluteSize(4096)).toBe(4096);
  });

  it("truncates fractions of a byte like DIB's int()", () => {
    expect(parseAbsoluteSize("1.3K")).toBe(1300);
    expect(parseAbsoluteSize("0.1KiB")).toBe(102);
  });

  it("rejects an unknown unit with DIB's text", () => {
    expect(() => parseAbsoluteSize("747InVaLiDUnIt")).toThrow("unit_str [InVaLiDUnIt] not known");
  });

  it("treats units as case-sensitive", () => {
    expect(() => parseAbsoluteSize("1gib")).toThrow("unit_str [gib] not known");
  });

  it("rejects a string that is no size spec at all", () => {
    expect(() => parseAbsoluteSize("_+!HuHi+-=")).toThrow("Invalid size unit spec [_+!HuHi+-=]");
    expect(() => parseAbsoluteSize("1.2.3G")).toThrow("Invalid size unit spec [1.2.3G]");
  });

  it("reports size errors as config errors", () => {
    try {
      parseAbsoluteSize("10 parsecs");
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "DIB_BLOCK_DEVICE_CONFIG" });
    }
  });
});

describe("parseRelativeSize", () => {
  it("returns absolute sizes as not relative, whatever the base", () => {
    expect(parseRelativeSize("154MiB", 0)).toEqual({ relative: false, bytes: 161480704 });
  });

  it("takes a percentage of the remaining space, truncated", () => {
    expect(parseRelativeSize("100%", 1006 * 1024 * 1024)).toEqual({
      relative: true,
      bytes: 1006 * 1024 * 1024,
    });
    expect(parseRelativeSize("50%", 1001)).toEqual({ relative: true, bytes: 500 });
    expect(parseRelativeSize("33.3%", 1000)).toEqual({ relative: true, bytes: 333 });
  });

  it("rejects a percentage that is not a number", () => {
    expect(() => parseRelativeSize("lots%", 100)).toThrow("Invalid size unit spec [lots%]");
  });
});
