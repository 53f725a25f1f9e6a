import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type AnyBlockDevicePlugin,
  type BlockDeviceGraph,
  type BlockDeviceParams,
  createBlockDevice,
  DEFAULT_BLOCK_DEVICE_CONFIG,
  defaultParams,
  GETVAL_SYMBOLS,
  type GraphEntry,
  type PartitionTableLayout,
  parseAbsoluteSize,
  planBlockDevice,
  planLayouts,
  StateStore,
} from "@dib/block-device";
import { STOCK_BLOCK_DEVICE_LEVELS } from "@dib/builder";
import { Host, installInterruptHandler } from "@dib/host";
import { type Command, InvalidArgumentError, Option } from "commander";

/** `block-device graph --json`: the plan of a config, without a build. */
interface GraphJson {
  /** DIB's graph form of the config, exactly as DIB's graph has it. */
  config: BlockDeviceGraph["config"];
  /**
   * What the build fills in where the config says nothing, by node name: `mkfs_root`'s
   * `type`, `label` and `opts` from FS_TYPE, ROOT_LABEL (or its default) and MKFS_OPTS.
   */
  defaults: Record<string, Record<string, unknown>>;
  nodes: string[];
  edges: [string, string][];
  order: string[];
}

/** `block-device layout --json`: the partition table of each partitioning entry. */
type LayoutJson = PartitionTableLayout;

/** The keys `effective` has and `given` lacks, per node name (what the build adds). */
function addedDefaults(
  given: readonly GraphEntry[],
  effective: readonly GraphEntry[],
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  effective.forEach((entry, i) => {
    for (const [plugin, values] of Object.entries(entry)) {
      const before = given[i]?.[plugin] ?? {};
      const added = Object.fromEntries(Object.entries(values).filter(([k]) => !(k in before)));
      if (Object.keys(added).length > 0) out[String(values.name)] = added;
    }
  });
  return out;
}

function graphJson(graph: BlockDeviceGraph): GraphJson {
  const config = graph.normalised ?? graph.config;
  return {
    config,
    defaults: addedDefaults(config, graph.config),
    nodes: graph.nodes.map((n) => n.name),
    edges: graph.edges,
    order: graph.order.map((n) => n.name),
  };
}

/**
 * The partition tables a config makes, in 512-byte sectors, for the given params (the
 * disk is the local_loop a partitioning is based on: its `size`, else the image size).
 */
function layoutJson(graph: BlockDeviceGraph, params: BlockDeviceParams): LayoutJson[] {
  return planLayouts(graph, params);
}

/**
 * What `--config` means: `file://PATH` or an existing file is read; anything else is the
 * YAML itself (DIB_BLOCK_DEVICE_CONFIG semantics). Without it, DIB_BLOCK_DEVICE_CONFIG,
 * else DIB's filesystem-only default.
 */
export function configArgument(
  value: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const given = value ?? env.DIB_BLOCK_DEVICE_CONFIG;
  if (given === undefined || given === "") return DEFAULT_BLOCK_DEVICE_CONFIG;
  if (given.startsWith("file://")) return given;
  if (!given.includes("\n") && existsSync(given)) return `file://${resolve(given)}`;
  return given;
}

function sizeOption(value: string): number {
  try {
    return parseAbsoluteSize(/^\d+$/.test(value) ? Number(value) : value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function blockSizeOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError("a sector size in bytes, e.g. 512 or 4096");
  return n;
}

interface ParamOptions {
  buildDir?: string;
  imageSize?: number;
  imageDir?: string;
  mountBase?: string;
  rootFsType?: string;
  rootLabel?: string;
  rootFsOpts?: string;
  blockSize?: number;
  trace?: boolean;
  json?: boolean;
}

/** Saved params of the build (written by init), with what the command line overrides. */
function paramsFrom(opts: ParamOptions): BlockDeviceParams {
  const buildDir = resolve(opts.buildDir ?? ".");
  const saved = new StateStore(buildDir).readParams();
  const base = saved ?? defaultParams(buildDir);
  const env = process.env;
  const envBlockSize = env.DIB_BLOCK_SIZE ? Number(env.DIB_BLOCK_SIZE) : undefined;
  return {
    ...base,
    buildDir,
    imageDir: opts.imageDir ? resolve(opts.imageDir) : base.imageDir,
    mountBase: opts.mountBase ? resolve(opts.mountBase) : base.mountBase,
    imageSize: opts.imageSize ?? base.imageSize,
    rootFsType: opts.rootFsType ?? (saved ? base.rootFsType : (env.FS_TYPE ?? base.rootFsType)),
    rootLabel: opts.rootLabel ?? (saved ? base.rootLabel : (env.ROOT_LABEL ?? base.rootLabel)),
    rootFsOpts: opts.rootFsOpts ?? base.rootFsOpts,
    blockSize: opts.blockSize ?? base.blockSize ?? envBlockSize,
  };
}

function withParamOptions(command: Command): Command {
  return command
    .requiredOption(
      "--build-dir <dir>",
      "the build directory (state goes to <dir>/states/block-device)",
    )
    .option("--image-size <size>", "image size: bytes or a size like 2GiB", sizeOption)
    .option("--image-dir <dir>", "where local_loop puts <name>.raw (default: the build directory)")
    .option("--mount-base <dir>", "where the image's / is mounted (default: <build-dir>/mnt)")
    .option(
      "--root-fs-type <type>",
      "type of mkfs_root when the config has none (FS_TYPE, default ext4)",
    )
    .option("--root-label <label>", "label of mkfs_root when the config has none (ROOT_LABEL)")
    .option("--root-fs-opts <opts>", "mkfs options of mkfs_root (MKFS_OPTS)")
    .option("--block-size <bytes>", "loop device sector size (DIB_BLOCK_SIZE)", blockSizeOption)
    .option("-x, --trace", "print every command line");
}

function write(text: string): void {
  process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
}

function json(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * `dib-cli block-device <command>`: DIB's dib-block-device commands on a build directory,
 * plus `graph` and `layout`, which plan a config without root.
 */
export function registerBlockDeviceCommand(
  program: Command,
  plugins: readonly AnyBlockDevicePlugin[] = STOCK_BLOCK_DEVICE_LEVELS,
): void {
  const bd = program
    .command("block-device")
    .description("create, inspect and release an image's block devices (DIB's dib-block-device)");

  const lifecycle = (opts: ParamOptions) => {
    const host = new Host({ trace: opts.trace === true });
    return { host, blockDevice: createBlockDevice({ plugins, host }), params: paramsFrom(opts) };
  };

  withParamOptions(bd.command("init"))
    .description("read the config, check it and save its graph form")
    .option(
      "--config <config>",
      "YAML text, a file, or file://PATH (default: DIB_BLOCK_DEVICE_CONFIG)",
    )
    .option("--json", "print the result as JSON")
    .action(async (opts: ParamOptions & { config?: string }) => {
      const { blockDevice, params } = lifecycle(opts);
      const result = await blockDevice.init(params, configArgument(opts.config));
      if (opts.json) json(result);
      else write(`${result.order.join(" → ")}\nconfig: ${join(result.stateDir, "config.json")}`);
    });

  withParamOptions(bd.command("getval"))
    .description(`print a value: ${GETVAL_SYMBOLS.join(", ")}`)
    .argument("<symbol>")
    .action((symbol: string, opts: ParamOptions) => {
      const { blockDevice, params } = lifecycle(opts);
      write(blockDevice.getval(params, symbol));
    });

  withParamOptions(bd.command("create"))
    .description(
      "create every node in order (loop device, partitions, volumes, filesystems, mounts)",
    )
    .option("--json", "print the result as JSON")
    .action(async (opts: ParamOptions) => {
      const { host, blockDevice, params } = lifecycle(opts);
      installInterruptHandler(host);
      const result = await blockDevice.create(params);
      if (opts.json) json(result);
      else {
        write(`image: ${result.imagePath ?? "-"} on ${result.imageDevice ?? "-"}`);
        for (const m of result.mounts) write(`mounted ${m.mountPoint} at ${m.path}`);
      }
    });

  withParamOptions(bd.command("writefstab"))
    .description("write the image's fstab")
    .addOption(
      new Option("--output <path>", "where to write it (default: <build-dir>/built/etc/fstab)"),
    )
    .action((opts: ParamOptions & { output?: string }) => {
      const { blockDevice, params } = lifecycle(opts);
      const built = join(params.buildDir, "built");
      const target = resolve(opts.output ?? join(built, "etc", "fstab"));
      // a target in the built tree is resolved inside it, whatever links the tree holds
      blockDevice.writefstab(params, target, { root: built });
      write(`wrote ${target}`);
    });

  for (const [name, description] of [
    ["umount", "unmount and detach everything, in reverse order (the image file stays)"],
    ["cleanup", "after umount: release what is left and remove the state directory"],
    ["delete", "the error path: release everything and delete the image file too"],
  ] as const) {
    withParamOptions(bd.command(name))
      .description(description)
      .action(async (opts: ParamOptions) => {
        const { blockDevice, params } = lifecycle(opts);
        await blockDevice[name](params);
      });
  }

  bd.command("graph")
    .description(
      "print the normalised config, nodes, edges and call order of a config (no root needed)",
    )
    .option(
      "--config <config>",
      "YAML text, a file, or file://PATH (default: DIB_BLOCK_DEVICE_CONFIG)",
    )
    .option("--root-fs-type <type>", "FS_TYPE for mkfs_root", "ext4")
    .option("--root-label <label>", "ROOT_LABEL for mkfs_root")
    .option("--json", "print JSON")
    .action((opts: { config?: string; rootFsType: string; rootLabel?: string; json?: boolean }) => {
      const params = defaultParams("/nonexistent", {
        rootFsType: opts.rootFsType,
        rootLabel: opts.rootLabel ?? null,
      });
      const graph = graphJson(planBlockDevice(configArgument(opts.config), { plugins, params }));
      if (opts.json) json(graph);
      else {
        write(`order: ${graph.order.join(" → ")}`);
        for (const [from, to] of graph.edges) write(`  ${from} → ${to}`);
      }
    });

  bd.command("layout")
    .description(
      "print the partition tables a config makes on a disk of --image-size (no root needed)",
    )
    .option(
      "--config <config>",
      "YAML text, a file, or file://PATH (default: DIB_BLOCK_DEVICE_CONFIG)",
    )
    .requiredOption("--image-size <size>", "disk size: bytes or a size like 2GiB", sizeOption)
    .option("--block-size <bytes>", "sector size (DIB_BLOCK_SIZE)", blockSizeOption)
    .option("--json", "print JSON")
    .action((opts: { config?: string; imageSize: number; blockSize?: number; json?: boolean }) => {
      const params = defaultParams("/nonexistent", {
        imageSize: opts.imageSize,
        blockSize: opts.blockSize,
      });
      const layouts = layoutJson(
        planBlockDevice(configArgument(opts.config), { plugins, params }),
        params,
      );
      if (opts.json) json(layouts);
      else {
        for (const l of layouts) {
          write(`${l.name} (${l.label})`);
          for (const p of l.partitions) {
            write(`  ${p.number} ${p.name} ${p.start}-${p.end} ${p.type} ${p.flags.join(",")}`);
          }
        }
      }
    });
}
