import { describe, expect, it } from "vitest";
import { DibError, isDibError, toDibError } from "./dib-error.js";

describe("DibError", () => {
  it("carries a stable code, a message, a hint and the file it is about", () => {
    const error = new DibError("DIB_TOOL_MISSING", "sgdisk is not installed", {
      hint: "apt-get install gdisk",
      file: "/x/config.yaml",
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("DIB_TOOL_MISSING");
    expect(error.message).toBe("sgdisk is not installed");
    expect(error.hint).toBe("apt-get install gdisk");
    expect(error.file).toBe("/x/config.yaml");
    expect(error.toJSON()).toMatchObject({
      code: "DIB_TOOL_MISSING",
      hint: "apt-get install gdisk",
    });
  });

  it("keeps the original error as its cause", () => {
    const cause = new Error("ENOENT");
    const error = new DibError("DIB_X", "wrapped", { cause });
    expect(error.cause).toBe(cause);
  });

  it("is recognised by code", () => {
    const error = new DibError("DIB_A", "a");
    expect(isDibError(error)).toBe(true);
    expect(isDibError(error, "DIB_A")).toBe(true);
    expect(isDibError(error, "DIB_B")).toBe(false);
    expect(isDibError(new Error("x"))).toBe(false);
  });

  it("wraps foreign errors without losing them", () => {
    const plain = new Error("boom");
    const wrapped = toDibError(plain);
    expect(wrapped.code).toBe("DIB_INTERNAL");
    expect(wrapped.message).toBe("boom");
    expect(wrapped.cause).toBe(plain);
    const same = new DibError("DIB_Y", "y");
    expect(toDibError(same)).toBe(same);
  });
});
