import {
  type Breakpoints,
  chrootArgv,
  type PhaseEvent,
  type PhaseResult,
  parseBreakpoints,
  runPhase,
} from "@dib/phase-runner";
import type { BuildEvent } from "../build-events.js";
import type { BuildOptions } from "../build-options.js";
import { type BuildVariables, phaseEnvironment } from "../hook-env.js";
import type { StepContext } from "../step-context.js";
import type { HookTree } from "./hooks-step.js";

function breakpointsOf(options: BuildOptions): Breakpoints {
  return {
    points: parseBreakpoints(options.breakpoints.join(",")),
    command: options.breakCmd ?? "bash",
    outsideTarget: options.breakOutsideTarget,
  };
}

/** Phase-runner events as build events: script progress, output lines, skipped-file warnings. */
export function toBuildEvent(event: PhaseEvent): BuildEvent | undefined {
  switch (event.type) {
    case "script-start":
      return {
        type: "script-start",
        phase: `${event.phase}.d`,
        script: event.script,
        element: event.element,
      };
    case "script-end":
      return {
        type: "script-end",
        phase: `${event.phase}.d`,
        script: event.script,
        element: event.element,
        ms: Math.round(event.seconds * 1000),
        exitCode: event.exitCode,
      };
    case "output":
      return {
        type: "log",
        line: event.line,
        stream: event.stream,
        phase: `${event.phase}.d`,
        script: event.script,
      };
    case "skipped":
      return event.warn ? { type: "warning", message: `${event.dir}/${event.message}` } : undefined;
    case "breakpoint":
      return {
        type: "log",
        line: `stopped at ${event.point} (${event.where}): exit the shell to continue`,
        stream: "builder",
        phase: `${event.phase}.d`,
      };
    default:
      return undefined;
  }
}

export interface RunHooksInput {
  hooks: HookTree;
  variables: BuildVariables;
  /** `root`, `install`, … (the hooks folder without `.d`). */
  phase: string;
  /** The root to chroot into; outside when absent. */
  chroot?: string | undefined;
  captureStdout?: boolean;
}

/** Runs one hook phase of the build through the phase runner. */
export async function runHooks(ctx: StepContext, input: RunHooksInput): Promise<PhaseResult> {
  const { options, workspace } = ctx;
  return runPhase({
    phase: input.phase,
    hooksDir: workspace.hooksDir,
    target: input.chroot === undefined ? "outside" : { chroot: input.chroot },
    env: phaseEnvironment(options, workspace, input.variables, input.phase),
    inheritEnv: false,
    host: ctx.host,
    ledger: ctx.ledger,
    scriptElements: input.hooks.scriptElements,
    breakpoints: breakpointsOf(options),
    onEvent: (event) => {
      const mapped = toBuildEvent(event);
      if (mapped) ctx.emit(mapped);
    },
    output: () => {},
    cwd: options.cwd,
    captureStdout: input.captureStdout ?? false,
  });
}

/**
 * Runs one command inside the root the way a chroot hook runs (DIB's run_in_target):
 * `-p` packages go through the image's own install-packages.
 */
export async function runInTarget(
  ctx: StepContext,
  root: string,
  argv: readonly string[],
  variables: BuildVariables,
  phase: string,
): Promise<void> {
  const env = phaseEnvironment(ctx.options, ctx.workspace, variables, phase);
  const held = await ctx.ledger.chroot(root);
  try {
    await ctx.host.run(chrootArgv(root, argv), {
      env,
      extendEnv: false,
      onLine: (line, stream) => ctx.emit({ type: "log", line, stream, phase }),
    });
  } finally {
    await ctx.ledger.release(held.seq);
  }
}
