import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** DIB's block-device fixtures, from shared/ beside the checkout. */
export const conformanceDir = fileURLToPath(
  new URL("../../../../../shared/conformance/dib/block-device/", import.meta.url),
);

/** The stock levels' YAML keys (the fixtures use them; the core knows no level). */
export const STOCK_PLUGIN_NAMES = new Set([
  "local_loop",
  "partitioning",
  "lvm",
  "mkfs",
  "mount",
  "fstab",
]);

export interface Expected {
  graph_config?: Record<string, Record<string, unknown>>[];
  config_tree_to_graph_error?: string;
  create_graph_error?: string;
  nodes?: string[];
  edges?: [string, string][];
}

export function configNames(): string[] {
  return readdirSync(join(conformanceDir, "config"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.replace(/\.yaml$/, ""))
    .sort();
}

export function configYaml(name: string): unknown {
  return parse(readFileSync(join(conformanceDir, "config", `${name}.yaml`), "utf8"), {
    version: "1.1",
  });
}

export function configFile(name: string): string {
  return join(conformanceDir, "config", `${name}.yaml`);
}

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
