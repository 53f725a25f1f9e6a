import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { GraphEntry } from "@dib/block-device";
import { blockDeviceConformance } from "@dib/test";

const expectedDir = join(blockDeviceConformance.conformanceDir, "expected");

/** What DIB's own code produced for one of its test configs (graph, edges, commands, state). */
export function expected(name: string) {
  return JSON.parse(readFileSync(join(expectedDir, `${name}.expected.json`), "utf8")) as {
    graph_config: GraphEntry[];
    edges: [string, string][];
    nodes: string[];
    simulated_create_commands: string[][];
    simulated_state_after_create: Record<string, Record<string, unknown>>;
    simulated_umount_cleanup_commands: string[][];
  };
}

/** The `lvm` entry of a DIB test config, in graph form. */
export function lvmEntry(name: string): Record<string, unknown> {
  const entry = expected(name).graph_config.find((e) => e.lvm)?.lvm;
  if (!entry) throw new Error(`${name} has no lvm entry`);
  return structuredClone(entry);
}
