import { DibError } from "@dib/host";

/** Where a build stops for a debug shell (`break=before-install,after-error`). */
export interface Breakpoints {
  /** The points, e.g. "before-install", "after-finalise", "after-error". */
  points: ReadonlySet<string>;
  /** The command run at a breakpoint (`break_cmd`, default `bash`), through `bash -c`. */
  command: string;
  /** `break_outside_target`: the shell opens on the host even for chroot phases. */
  outsideTarget: boolean;
}

const POINT = /^(?:before|after)-[0-9A-Za-z_-]+(?:\.d)?$/;

/**
 * Parses the comma-separated `break` value. DIB ignores a point it does not know; we
 * reject a malformed one (a typo like `install` would otherwise never stop the build).
 */
export function parseBreakpoints(value: string | undefined): Set<string> {
  const points = new Set<string>();
  for (const raw of (value ?? "").split(",")) {
    const point = raw.trim();
    if (point === "") continue;
    if (!POINT.test(point)) {
      throw new DibError("DIB_BREAKPOINT_INVALID", `invalid breakpoint: ${JSON.stringify(point)}`, {
        hint: "use before-<phase>, after-<phase> or after-error, comma-separated (break=before-install,after-error)",
      });
    }
    points.add(point.replace(/\.d$/, ""));
  }
  return points;
}

/** The breakpoint settings from the environment: `break`, `break_cmd`, `break_outside_target`. */
export function breakpointsFromEnv(env: Readonly<Record<string, string | undefined>>): Breakpoints {
  const command = env.break_cmd?.trim();
  return {
    points: parseBreakpoints(env.break),
    command: command ? command : "bash",
    outsideTarget: (env.break_outside_target ?? "") !== "",
  };
}

/** Whether the build should stop at `point` (e.g. `before-install`). */
export function hasBreakpoint(breakpoints: Breakpoints | undefined, point: string): boolean {
  return breakpoints?.points.has(point) ?? false;
}
