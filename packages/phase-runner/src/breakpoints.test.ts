import { describe, expect, it } from "vitest";
import { breakpointsFromEnv, hasBreakpoint, parseBreakpoints } from "./breakpoints.js";

describe("parseBreakpoints", () => {
  it("reads a comma-separated list of before-/after- points", () => {
    expect([...parseBreakpoints("before-install,after-error, after-finalise.d ,")]).toEqual([
      "before-install",
      "after-error",
      "after-finalise",
    ]);
  });

  it("is empty when break is unset or blank", () => {
    expect(parseBreakpoints(undefined).size).toBe(0);
    expect(parseBreakpoints("").size).toBe(0);
  });

  it("rejects a point that is not before-<phase>, after-<phase> or after-error", () => {
    expect(() => parseBreakpoints("install")).toThrow(
      expect.objectContaining({
        code: "DIB_BREAKPOINT_INVALID",
        message: 'invalid breakpoint: "install"',
      }),
    );
    expect(() => parseBreakpoints("during-install")).toThrow(/invalid breakpoint/);
  });
});

describe("breakpointsFromEnv", () => {
  it("takes break, break_cmd (default bash) and break_outside_target", () => {
    const bp = breakpointsFromEnv({
      break: "after-error",
      break_cmd: "touch /tmp/x",
      break_outside_target: "1",
    });
    expect(bp).toEqual({
      points: new Set(["after-error"]),
      command: "touch /tmp/x",
      outsideTarget: true,
    });
    expect(breakpointsFromEnv({})).toEqual({
      points: new Set(),
      command: "bash",
      outsideTarget: false,
    });
    expect(breakpointsFromEnv({ break_outside_target: "", break_cmd: " " })).toMatchObject({
      command: "bash",
      outsideTarget: false,
    });
  });

  it("answers whether to stop at a point", () => {
    const bp = breakpointsFromEnv({ break: "before-install" });
    expect(hasBreakpoint(bp, "before-install")).toBe(true);
    expect(hasBreakpoint(bp, "after-install")).toBe(false);
    expect(hasBreakpoint(undefined, "before-install")).toBe(false);
  });
});
