import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** DIB's block-device fixtures, from shared/ beside the checkout. */
export const conformanceDir = fileURLToPath(
  new URL("../../../shared/conformance/dib/block-device/", import.meta.url),
);

/** What DIB made of one fixture config: its graph, or the error it stopped with. */
export interface Expected {
  graph_config?: Record<string, Record<string, unknown>>[];
  config_tree_to_graph_error?: string;
  create_graph_error?: string;
  nodes?: string[];
  edges?: [string, string][];
  simulated_create_commands?: string[][];
  simulated_state_after_create?: Record<string, Record<string, unknown>>;
  simulated_umount_cleanup_commands?: string[][];
}

export function configNames(): string[] {
  return readdirSync(join(conformanceDir, "config"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

export function configFile(name: string): string {
  return join(conformanceDir, "config", `${name}.yaml`);
}

export function configUrl(name: string): string {
  return `file://${configFile(name)}`;
}

/** A stock element's default config, as DIB's fixtures copied it. */
export function stockUrl(name: string): string {
  return `file://${join(conformanceDir, "stock", `${name}--block-device-default.yaml`)}`;
}

/** The expected result for a config, or undefined when DIB's fixtures have none. */
export function expected(name: string): Expected | undefined {
  try {
    return JSON.parse(
      readFileSync(join(conformanceDir, "expected", `${name}.expected.json`), "utf8"),
    ) as Expected;
  } catch {
    return undefined;
  }
}

/** DIB's error texts without the Python exception class in front. */
export function errorText(text: string): string {
  return text.replace(/^\w+: /, "");
}
