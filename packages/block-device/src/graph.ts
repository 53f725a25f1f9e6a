import { blockDeviceConfigError, withConfigFile } from "./config-error.js";
import type { BlockDeviceNode, BlockDeviceParams, GraphEntry, PluginContext } from "./plugin.js";
import type { AnyBlockDevicePlugin, PluginRegistry } from "./plugin-registry.js";
import { schemaError } from "./schema-errors.js";
import { topologicalOrder } from "./topological-order.js";

/** One config entry after validation: its plugin, its parsed config and its nodes. */
export interface PlannedEntry {
  plugin: AnyBlockDevicePlugin;
  config: unknown;
  origin: string;
  nodes: BlockDeviceNode[];
}

/** The block-device graph: what will be created, and in which order. Pure data. */
export interface BlockDeviceGraph {
  /** The graph config the nodes are made from (with the root-filesystem globals merged in). */
  config: GraphEntry[];
  /**
   * DIB's graph form of the config as given (its `config_tree_to_graph`), before the
   * FS_TYPE / ROOT_LABEL / MKFS_OPTS globals are merged into `mkfs_root`; set when the
   * graph was planned from a config (`planBlockDevice`, `BlockDevice.plan`).
   */
  normalised?: GraphEntry[];
  entries: PlannedEntry[];
  /** Every node, in config order. */
  nodes: BlockDeviceNode[];
  edges: [string, string][];
  /** The call order of `create`; `umount` and `cleanup` walk it backwards. */
  order: BlockDeviceNode[];
}

export interface BuildGraphOptions {
  /** Where each entry came from (from `configTreeToGraph`); defaults to `[i].<plugin>`. */
  origins?: readonly string[];
  /** The config file, named in errors. */
  file?: string | undefined;
}

/**
 * DIB's `create_graph`: validates every entry against its plugin's schema, asks the plugin
 * for its nodes, checks names and edges, and orders the nodes. Entries are handled in
 * config order, so the first problem in the file is the one reported.
 */
export function buildGraph(
  config: readonly GraphEntry[],
  registry: PluginRegistry,
  params: BlockDeviceParams,
  options: BuildGraphOptions = {},
): BlockDeviceGraph {
  const { file } = options;
  const entries: PlannedEntry[] = [];
  const byName = new Map<string, BlockDeviceNode>();
  const nodes: BlockDeviceNode[] = [];
  config.forEach((entry, index) => {
    const [key, value] = Object.entries(entry)[0] ?? [];
    const origin = options.origins?.[index] ?? `[${index}].${key}`;
    const plugin = key === undefined ? undefined : registry.get(key);
    if (key === undefined || plugin === undefined || value === undefined) {
      throw blockDeviceConfigError(`Config entry is not a plugin value: ${JSON.stringify(entry)}`, {
        hint: `known plugins: ${[...registry.names].join(", ")}`,
        file,
      });
    }
    const parsed = plugin.schema.safeParse(value);
    if (!parsed.success) throw schemaError(key, value, origin, parsed.error, plugin.schema, file);
    let made: BlockDeviceNode[];
    try {
      made = plugin.nodes({ config: parsed.data, params, graph: config, index, origin });
    } catch (error) {
      throw withConfigFile(error, file);
    }
    for (const node of made) {
      if (byName.has(node.name)) {
        throw blockDeviceConfigError(`Duplicate node name: ${node.name}`, {
          hint: "every node (local_loop, partition, lvm volume, mkfs, mount, fstab) needs its own name",
          file,
          details: { path: origin },
        });
      }
      byName.set(node.name, node);
      nodes.push(node);
    }
    entries.push({ plugin, config: parsed.data, origin, nodes: made });
  });

  const edges: [string, string][] = [];
  const seen = new Set<string>();
  const addEdge = (from: string, to: string) => {
    const id = JSON.stringify([from, to]);
    if (seen.has(id)) return;
    seen.add(id);
    edges.push([from, to]);
  };
  for (const node of nodes) {
    for (const from of node.after) {
      if (!byName.has(from)) throw undefinedEdge(from, node.name, from, file);
      addEdge(from, node.name);
    }
    for (const to of node.before ?? []) {
      if (!byName.has(to)) throw undefinedEdge(node.name, to, to, file);
      addEdge(node.name, to);
    }
  }

  const { order, stuck } = topologicalOrder(
    nodes.map((n) => n.name),
    edges,
  );
  if (stuck.length > 0) {
    throw blockDeviceConfigError(
      `The block-device graph has a cycle through: ${stuck.join(", ")}`,
      {
        hint: "a node cannot (indirectly) be its own base",
        file,
      },
    );
  }
  return {
    config: [...config],
    entries,
    nodes,
    edges,
    order: order.map((name) => byName.get(name) as BlockDeviceNode),
  };
}

function undefinedEdge(from: string, to: string, missing: string, file: string | undefined) {
  return blockDeviceConfigError(`Edge not defined: ${from}->${to}`, {
    hint: `no node is named '${missing}': a base names a disk, partition, volume, mkfs or mount node`,
    file,
  });
}

/** The tools every entry's nodes will run, for `requireTools`. */
export function toolsOf(graph: BlockDeviceGraph, params: BlockDeviceParams): string[] {
  const context: PluginContext = { graph: graph.config, params };
  return [...new Set(graph.entries.flatMap((e) => e.plugin.tools?.(e.config, context) ?? []))];
}
