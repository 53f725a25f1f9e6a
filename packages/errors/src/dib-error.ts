/**
 * Every failure dib reports is a DibError: a stable `code` scripts and tests can match, a
 * `message` saying what went wrong and a `hint` saying what a person can do about it.
 */
export interface DibErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** The file the error is about (a config, an element file, a ledger). */
  file?: string | undefined;
  /** Machine-readable facts: argv, exit code, the element and script that failed, … */
  details?: Record<string, unknown> | undefined;
}

export class DibError extends Error {
  override readonly name = "DibError";
  readonly code: string;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: DibErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
    this.details = options.details ?? {};
  }

  toJSON() {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      file: this.file,
      details: this.details,
    };
  }
}

export function isDibError(value: unknown, code?: string): value is DibError {
  return value instanceof DibError && (code === undefined || value.code === code);
}

/** Turns anything thrown into a DibError, keeping the original as the cause. */
export function toDibError(value: unknown, code = "DIB_INTERNAL"): DibError {
  if (value instanceof DibError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new DibError(code, message, { cause: value });
}
