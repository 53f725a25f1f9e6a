import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { configTreeToGraph } from "@dib/block-device";
import { blockDeviceConformance } from "@dib/test";
import { parse } from "yaml";
import { type PartitioningConfig, partitioningSchema } from "../schema.js";

export const { conformanceDir } = blockDeviceConformance;

const PLUGINS = new Set(["local_loop", "partitioning", "lvm", "mkfs", "mount", "fstab"]);

/** The partitioning entry of a config, after the core's tree→graph conversion. */
function partitioningOf(config: unknown): PartitioningConfig {
  const { entries } = configTreeToGraph(config, PLUGINS);
  const entry = entries.find((e) => "partitioning" in e)?.partitioning;
  if (!entry) throw new Error("no partitioning entry");
  return partitioningSchema.parse(entry);
}

/**
 * The partitioning config behind a `config` path of partitioning-layouts.expected.json:
 * DIB's test configs come from their graph form in expected/, the element defaults from stock/.
 */
export function partitioningFixture(upstreamPath: string): PartitioningConfig {
  const file = basename(upstreamPath, ".yaml");
  const element = /elements\/([^/]+)\//.exec(upstreamPath)?.[1];
  if (element) {
    const text = readFileSync(`${conformanceDir}stock/${element}--${file}.yaml`, "utf8");
    return partitioningOf(parse(text));
  }
  const expected = JSON.parse(
    readFileSync(`${conformanceDir}expected/${file}.expected.json`, "utf8"),
  );
  return partitioningOf(expected.graph_config);
}

export interface LayoutCase {
  config: string;
  disk_size_bytes: number;
  exec_sudo_calls: string[][];
  partx_raw_NR_START_END_TYPE_FLAGS_SCHEME?: string[];
}

export function layoutCases(): LayoutCase[] {
  return JSON.parse(readFileSync(`${conformanceDir}partitioning-layouts.expected.json`, "utf8"))
    .cases;
}
