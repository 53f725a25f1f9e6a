import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** DIB's block-device fixtures, from shared/ beside the checkout. */
export const conformanceDir = fileURLToPath(
  new URL("../../../../../shared/conformance/dib/block-device/", import.meta.url),
);

export interface Expected {
  graph_config?: Record<string, Record<string, unknown>>[];
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

export function configUrl(name: string): string {
  return `file://${join(conformanceDir, "config", `${name}.yaml`)}`;
}

export function stockUrl(name: string): string {
  return `file://${join(conformanceDir, "stock", `${name}--block-device-default.yaml`)}`;
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
