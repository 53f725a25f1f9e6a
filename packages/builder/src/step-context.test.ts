import { describe, expect, it } from "vitest";
import type { BuildEvent } from "./build-events.js";
import { planBuild } from "./build-plan.js";
import { PlanCursor } from "./step-context.js";

const plan = planBuild({
  imageTypes: ["tar"],
  imageElements: ["fake-os"],
  installPackages: [],
  ramdisk: false,
  blockDeviceConfig: "fallback",
});

describe("PlanCursor", () => {
  it("brackets each step with phase events and records its time", async () => {
    const events: BuildEvent[] = [];
    const cursor = new PlanCursor((e) => events.push(e));
    await cursor.step("elements", async () => "resolved");
    cursor.setPlan(plan.steps);
    await cursor.step("workspace", async () => undefined);
    expect(events.map((e) => `${e.type}:${"phase" in e ? e.phase : ""}`)).toEqual([
      "phase-start:elements",
      "phase-end:elements",
      "phase-start:workspace",
      "phase-end:workspace",
    ]);
    expect(cursor.timings.map((t) => t.phase)).toEqual(["elements", "workspace"]);
  });

  it("refuses a step the plan does not have next, so the plan stays the truth", async () => {
    const cursor = new PlanCursor(() => {});
    await cursor.step("elements", async () => undefined);
    cursor.setPlan(plan.steps);
    await expect(cursor.step("size", async () => undefined)).rejects.toThrow(
      "the builder ran step size where its plan has workspace",
    );
  });

  it("reports a failed step as not ok and remembers it as the current one", async () => {
    const events: BuildEvent[] = [];
    const cursor = new PlanCursor((e) => events.push(e));
    await expect(
      cursor.step("elements", async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(events.at(-1)).toMatchObject({ type: "phase-end", phase: "elements", ok: false });
    expect(cursor.current).toBe("elements");
  });
});
