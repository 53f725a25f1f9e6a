import { formatArgv, isDibError } from "@dib/host";

type ErrorStream = { write(text: string): unknown };

/**
 * The facts of a DibError's `details` worth a line of their own, in this order. Long ones
 * (output tails) are left out: the hint and the build's own report already show them.
 */
const DETAIL_LINES: readonly { key: string; label: string }[] = [
  { key: "step", label: "step" },
  { key: "phase", label: "phase" },
  { key: "element", label: "element" },
  { key: "script", label: "script" },
  { key: "environmentFile", label: "environment file" },
  { key: "argv", label: "command" },
  { key: "exitCode", label: "exit code" },
  { key: "signal", label: "signal" },
  { key: "keptBuildDir", label: "build directory kept" },
  { key: "cleanupError", label: "cleanup failed too" },
];

function detailText(key: string, value: unknown, details: Record<string, unknown>): string {
  if (key === "argv") {
    return Array.isArray(value) && value.every((a) => typeof a === "string")
      ? formatArgv(value)
      : "";
  }
  if (key === "phase" && typeof value === "string") {
    // The phase runner names hook phases `install`; the builder's step says `install.d`.
    const dir = value.endsWith(".d") ? value : `${value}.d`;
    return details.step === value || details.step === dir ? "" : dir;
  }
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

/** `step: install.d`, `element: …`, … for the details a person can act on. */
export function detailLines(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const { key, label } of DETAIL_LINES) {
    const text = detailText(key, details[key], details);
    if (text !== "") lines.push(`${label}: ${text}`);
  }
  return lines;
}

/**
 * Prints an error the way users read it: code and message, the file and the facts of the
 * failure (builder step, element, script, command), the hint last; the stack only when
 * tracing.
 */
export function reportError(
  error: unknown,
  trace: boolean,
  err: ErrorStream = process.stderr,
): number {
  if (isDibError(error)) {
    const lines = [`error ${error.code}: ${error.message}`];
    if (error.file) lines.push(`file: ${error.file}`);
    lines.push(...detailLines(error.details));
    if (error.hint) lines.push(`hint: ${error.hint}`);
    if (trace && error.stack) lines.push(error.stack);
    err.write(`${lines.join("\n")}\n`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  err.write(`error DIB_INTERNAL: ${message}\n`);
  if (trace && error instanceof Error && error.stack) err.write(`${error.stack}\n`);
  else err.write("hint: run again with -x for the stack trace, and report it as a bug\n");
  return 1;
}
