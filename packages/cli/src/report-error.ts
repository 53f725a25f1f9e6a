import { isDibError } from "@dib/host";

/** Prints an error the way users read it: code, message, hint; the stack only when tracing. */
export function reportError(error: unknown, trace: boolean): number {
  if (isDibError(error)) {
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
    if (error.file) process.stderr.write(`file: ${error.file}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    if (trace && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error DIB_INTERNAL: ${message}\n`);
  if (trace && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else
    process.stderr.write("hint: run again with -x for the stack trace, and report it as a bug\n");
  return 1;
}
