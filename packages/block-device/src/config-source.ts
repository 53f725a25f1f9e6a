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

const HOW_TO_GIVE = "give YAML text, a file, or file://PATH (DIB_BLOCK_DEVICE_CONFIG, --config)";

function readConfigFile(file: string): ConfigSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw blockDeviceConfigError(
      missing
        ? `the block-device config file ${file} does not exist`
        : `cannot read the block-device config ${file}`,
      { hint: missing ? HOW_TO_GIVE : (error as Error).message, file, cause: error },
    );
  }
  return { value: parseConfigText(text, file), text, file };
}

/**
 * Reads a config given the way DIB_BLOCK_DEVICE_CONFIG gives it: `file://<path>` reads
 * that file, anything else is the YAML text itself. One line that is no YAML list or map
 * but a plain string (`layout.yaml`, `./disk.yml`) can never be a config, only a file
 * name: it is read as one, and reported as a missing file when it does not exist.
 */
export function readConfigSource(config: string): ConfigSource {
  if (config.startsWith("file://")) return readConfigFile(resolve(config.slice("file://".length)));
  const value = parseConfigText(config, undefined);
  if (typeof value === "string" && !config.includes("\n") && value.trim() !== "") {
    return readConfigFile(resolve(value.trim()));
  }
  return { value, text: config };
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
