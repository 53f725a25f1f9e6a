import { describe, expect, it } from "vitest";
import { concurrencyLimit } from "./concurrency-limit.js";

describe("concurrencyLimit", () => {
  it("never runs more jobs at once than the limit, and runs them all", async () => {
    const limit = concurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const job = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5 + (i % 3)));
      running--;
      return i;
    };
    const first = Array.from({ length: 5 }, (_, i) => limit(job(i)));
    // Jobs queued while others finish must not slip past the limit either.
    await first[0];
    const more = Array.from({ length: 5 }, (_, i) => limit(job(i + 5)));
    expect(await Promise.all([...first, ...more])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(2);
  });

  it("frees the slot of a failed job", async () => {
    const limit = concurrencyLimit(1);
    await expect(limit(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limit(async () => "next")).toBe("next");
  });
});
