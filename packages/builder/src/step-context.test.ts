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

  it("counts each step in the plan, skipped ones too, once there is a plan", async () => {
    const events: BuildEvent[] = [];
    const cursor = new PlanCursor((e) => events.push(e));
    await cursor.step("elements", async () => undefined);
    cursor.setPlan(plan.steps);
    await cursor.step("workspace", async () => undefined);
    cursor.skip(plan.steps[2]?.name as string, "restored");
    const total = plan.steps.length;
    expect(events.filter((e) => e.type !== "phase-end")).toEqual([
      { type: "phase-start", phase: "elements", where: "builder" },
      { type: "phase-start", phase: "workspace", where: "builder", index: 2, total },
      { type: "phase-skip", phase: plan.steps[2]?.name, reason: "restored", index: 3, total },
    ]);
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
