import { DibError, type DibErrorOptions } from "@dib/host";

/** The code of every error about what a block-device config says. */
export const BLOCK_DEVICE_CONFIG_ERROR = "DIB_BLOCK_DEVICE_CONFIG";

/** An error in the block-device config: levels throw it from `nodes()` with DIB's texts. */
export function blockDeviceConfigError(message: string, options: DibErrorOptions = {}): DibError {
  return new DibError(BLOCK_DEVICE_CONFIG_ERROR, message, options);
}

/** The same error naming the config file (levels do not know it; the core does). */
export function withConfigFile(error: unknown, file: string | undefined): unknown {
  if (!(error instanceof DibError) || file === undefined || error.file !== undefined) return error;
  return new DibError(error.code, error.message, {
    hint: error.hint,
    file,
    details: error.details,
    cause: error.cause ?? error,
  });
}
