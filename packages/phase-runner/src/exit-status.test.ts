import { describe, expect, it } from "vitest";
import { describeExit } from "./exit-status.js";

describe("describeExit", () => {
  it("says an ordinary exit code as it is", () => {
    expect(describeExit(3)).toEqual({ text: "failed with exit code 3" });
    expect(describeExit(100)).toEqual({ text: "failed with exit code 100" });
  });

  it("names SIGKILL and the OOM killer for 137", () => {
    const d = describeExit(137);
    expect(d.text).toBe("was killed by SIGKILL (exit code 137) — out of memory?");
    expect(d.signal).toBe("SIGKILL");
    expect(d.hint).toContain("dmesg");
  });

  it("names other signals from their 128+N status", () => {
    expect(describeExit(143)).toEqual({
      text: "was killed by SIGTERM (exit code 143)",
      signal: "SIGTERM",
    });
    expect(describeExit(130).signal).toBe("SIGINT");
  });

  it("keeps a status above 128 that is no signal a plain exit code", () => {
    expect(describeExit(255)).toEqual({ text: "failed with exit code 255" });
  });
});
