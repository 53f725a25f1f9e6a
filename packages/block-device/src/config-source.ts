import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { blockDeviceConfigError } from "./config-error.js";

/** A block-device config as read: its parsed YAML and the file it came from, if any. */
export interface ConfigSource {
  /** The parsed YAML (a list of entries, if it is valid). */
  value: unknown;
  /** The YAML text. */
  text: string;
  /** The file it was read from; errors name it. */
  file?: string | undefined;
}

/**
 * Reads a config given the way DIB_BLOCK_DEVICE_CONFIG gives it: `file://<path>` reads
 * that file, anything else is the YAML text itself.
 */
export function readConfigSource(config: string): ConfigSource {
  if (config.startsWith("file://")) {
    const file = resolve(config.slice("file://".length));
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw blockDeviceConfigError(`cannot read the block-device config ${file}`, {
        hint: (error as Error).message,
        file,
        cause: error,
      });
    }
    return { value: parseConfigText(text, file), text, file };
  }
  return { value: parseConfigText(config, undefined), text: config };
}

/** Parses config YAML; a syntax error names the line. */
export function parseConfigText(text: string, file: string | undefined): unknown {
  try {
    // YAML 1.1, as PyYAML reads it: DIB configs say `trigger_rollback: yes`.
    return parse(text, { version: "1.1" });
  } catch (error) {
    throw blockDeviceConfigError(
      `the block-device config is not valid YAML: ${(error as Error).message}`,
      {
        file,
        cause: error,
      },
    );
  }
}
