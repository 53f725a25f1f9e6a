import { readFileSync } from "node:fs";
import { blockDeviceConformance } from "@dib/test";
import { parse } from "yaml";

export const { configNames, configFile, expected, errorText } = blockDeviceConformance;

/** The stock levels' YAML keys (the fixtures use them; the core knows no level). */
export const STOCK_PLUGIN_NAMES = new Set([
  "local_loop",
  "partitioning",
  "lvm",
  "mkfs",
  "mount",
  "fstab",
]);

export function configYaml(name: string): unknown {
  return parse(readFileSync(configFile(name), "utf8"), { version: "1.1" });
}
