import { DibError, type Host, type Ledger } from "@dib/host";
import type { BuildEvent, PhaseTiming, PlanPosition } from "./build-events.js";
import type { BuildOptions } from "./build-options.js";
import type { PlannedStep } from "./build-plan.js";
import type { Workspace } from "./workspace.js";

/**
 * What every step gets besides its own inputs: the door to the host, the build's ledger
 * and directories, and a way to report progress. `step()` brackets one planned step
 * with phase-start/phase-end events and records its time; it also checks that the
 * builder runs the plan's steps in the plan's order, so the plan stays the truth.
 */
export interface StepContext {
  host: Host;
  ledger: Ledger;
  workspace: Workspace;
  options: BuildOptions;
  emit: (event: BuildEvent) => void;
  step<T>(name: string, run: () => Promise<T>): Promise<T>;
  /** Passes over a planned step whose result is already there (a restored stage). */
  skip?: ((name: string, reason: string) => void) | undefined;
}

/** The steps that run before there is a plan (the plan depends on their result). */
const PRELUDE: readonly PlannedStep[] = [{ name: "elements", where: "builder" }];

export class PlanCursor {
  readonly timings: PhaseTiming[] = [];
  /** The step running now (the one a failure happened in). */
  current: string | undefined;
  private steps: readonly PlannedStep[] = PRELUDE;
  private planned = false;
  private next = 0;

  constructor(private readonly emit: (event: BuildEvent) => void) {}

  /** Sets the plan; the steps already run must be its beginning. */
  setPlan(steps: readonly PlannedStep[]): void {
    const done = this.steps.slice(0, this.next).map((s) => s.name);
    if (steps.slice(0, done.length).some((s, i) => s.name !== done[i])) {
      throw new DibError("DIB_INTERNAL", `the plan does not begin with ${done.join(", ")}`);
    }
    this.steps = steps;
    this.planned = true;
  }

  /** The step just taken, counted in the plan (nothing before there is one). */
  private position(): PlanPosition {
    return this.planned ? { index: this.next, total: this.steps.length } : {};
  }

  /** The steps not run yet (for the failure report). */
  remaining(): string[] {
    return this.steps.slice(this.next).map((s) => s.name);
  }

  /** The planned steps from the next one on, as the cursor moves through them. */
  *remainingSteps(): Generator<PlannedStep> {
    while (this.next < this.steps.length) {
      const step = this.steps[this.next] as PlannedStep;
      yield step;
      if (this.steps[this.next] === step) {
        throw new DibError("DIB_INTERNAL", `step ${step.name} was neither run nor skipped`);
      }
    }
  }

  /** Passes over the next planned step without running it, saying why. */
  skip(name: string, reason: string): void {
    const planned = this.steps[this.next];
    if (!planned || planned.name !== name) {
      throw new DibError(
        "DIB_INTERNAL",
        `the builder skipped step ${name} where its plan has ${planned?.name ?? "nothing left"}`,
      );
    }
    this.next++;
    this.emit({ type: "phase-skip", phase: name, reason, ...this.position() });
  }

  async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const planned = this.steps[this.next];
    if (!planned || planned.name !== name) {
      throw new DibError(
        "DIB_INTERNAL",
        `the builder ran step ${name} where its plan has ${planned?.name ?? "nothing left"}`,
      );
    }
    this.next++;
    const started = Date.now();
    this.emit({ type: "phase-start", phase: name, where: planned.where, ...this.position() });
    this.current = name;
    let ok = false;
    try {
      const result = await run();
      ok = true;
      this.current = undefined;
      return result;
    } finally {
      const ms = Date.now() - started;
      this.timings.push({ phase: name, ms });
      this.emit({ type: "phase-end", phase: name, ms, ok });
    }
  }
}
