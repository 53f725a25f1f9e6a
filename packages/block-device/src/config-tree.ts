import { blockDeviceConfigError } from "./config-error.js";
import type { GraphEntry } from "./plugin.js";

/** The normalised (graph-form) config, and where each entry came from in the input. */
export interface NormalisedConfig {
  entries: GraphEntry[];
  /** `origins[i]` is the path of `entries[i]` in the input, e.g. `[1].partitioning.partitions[0].mkfs`. */
  origins: string[];
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * Turns a config in tree form, graph form or a mix of both into graph form (DIB's
 * `config_tree_to_graph`): every plugin entry becomes a top-level `{ plugin: {...} }` with
 * a `name` and (unless it is a root like local_loop) a `base`.
 *
 * - A nested entry's base is its parent's name; without a name it is called
 *   `<plugin>_<base>` (`mkfs_root`, `mount_mkfs_root`, `fstab_mount_mkfs_root`).
 * - The partitions of a partitioning get the partitioning's base (the disk), and the
 *   entries nested in a partition have the partition as their base.
 * - Children come before their parent. Converting a graph again changes nothing.
 */
export function configTreeToGraph(
  config: unknown,
  pluginNames: ReadonlySet<string>,
  file?: string,
): NormalisedConfig {
  if (config === null || config === undefined) {
    throw blockDeviceConfigError("the block-device config is empty", {
      hint: "it must be a YAML list of entries such as `- local_loop: {name: image0}`",
      file,
    });
  }
  if (!Array.isArray(config)) {
    throw blockDeviceConfigError(`the block-device config must be a list, not ${show(config)}`, {
      hint: "each item is a single `<plugin>: {...}` mapping",
      file,
    });
  }
  const out: NormalisedConfig = { entries: [], origins: [] };
  config.forEach((entry, i) => {
    const origin = `[${i}]`;
    if (!isDict(entry)) {
      throw blockDeviceConfigError(`Config entry not a dict: ${show(entry)}`, {
        file,
        details: { path: origin },
      });
    }
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      throw blockDeviceConfigError(
        `Config entry top-level should be a single dict: ${show(entry)}`,
        {
          hint: "start a new list item (`- `) for each plugin entry",
          file,
          details: { path: origin },
        },
      );
    }
    const key = keys[0] as string;
    if (!pluginNames.has(key)) {
      throw blockDeviceConfigError(`Config entry is not a plugin value: ${show(entry)}`, {
        hint: `known plugins: ${[...pluginNames].join(", ")}`,
        file,
        details: { path: origin },
      });
    }
    recurse(key, entry[key], undefined, `${origin}.${key}`, pluginNames, file, out);
  });
  return out;
}

function recurse(
  key: string,
  values: unknown,
  parentBase: unknown,
  origin: string,
  pluginNames: ReadonlySet<string>,
  file: string | undefined,
  out: NormalisedConfig,
): void {
  if (!isDict(values)) {
    throw blockDeviceConfigError(`Config entry not a dict: ${show({ [key]: values })}`, {
      file,
      details: { path: origin },
    });
  }
  const base = values.base ?? parentBase;
  const name = values.name ?? autoName(key, base);
  const node: Dict = {};
  if (base !== undefined) node.base = base;
  if (name !== undefined) node.name = name;
  for (const [k, v] of Object.entries(values)) {
    if (k === "base" || k === "name") continue;
    if (k === "partitions" && Array.isArray(v)) {
      node.partitions = v.map((partition, p) =>
        partitionEntry(partition, base, `${origin}.partitions[${p}]`, pluginNames, file, out),
      );
    } else if (pluginNames.has(k)) {
      recurse(k, v, name, `${origin}.${k}`, pluginNames, file, out);
    } else {
      node[k] = v;
    }
  }
  out.entries.push({ [key]: node });
  out.origins.push(origin);
}

function partitionEntry(
  partition: unknown,
  diskBase: unknown,
  origin: string,
  pluginNames: ReadonlySet<string>,
  file: string | undefined,
  out: NormalisedConfig,
): unknown {
  if (!isDict(partition)) return partition; // the partitioning schema reports it, with its path
  const result: Dict = {};
  for (const [k, v] of Object.entries(partition)) {
    if (pluginNames.has(k)) recurse(k, v, partition.name, `${origin}.${k}`, pluginNames, file, out);
    else result[k] = v;
  }
  result.base = diskBase;
  return result;
}

/** `<plugin>_<base>`; a list base (lvm's `base: [root]`) joins its items. */
function autoName(key: string, base: unknown): string | undefined {
  if (typeof base === "string") return `${key}_${base}`;
  if (Array.isArray(base) && base.every((b) => typeof b === "string"))
    return `${key}_${base.join("_")}`;
  return undefined;
}
