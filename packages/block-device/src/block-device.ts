import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import {
  DibError,
  type Host,
  isAtOrBelow,
  Ledger,
  requireTools,
  resolveInRoot,
  safeRemove,
} from "@dib/host";
import { probeCapabilities } from "./capabilities.js";
import { type ConfigSource, readConfigSource } from "./config-source.js";
import { configTreeToGraph } from "./config-tree.js";
import { renderFstab } from "./fstab-text.js";
import { getval } from "./getval.js";
import { type BlockDeviceGraph, buildGraph, toolsOf } from "./graph.js";
import type {
  BlockDeviceNode,
  BlockDeviceParams,
  BlockDeviceState,
  GraphEntry,
  HostCapabilities,
  NodeContext,
  PluginContext,
} from "./plugin.js";
import { type AnyBlockDevicePlugin, PluginRegistry } from "./plugin-registry.js";
import { type FilesystemInfo, filesystemInfo } from "./root-info.js";
import { mergeRootfsParams } from "./rootfs-params.js";
import { type CreatedRecord, emptyState, StateStore } from "./state-store.js";

export interface BlockDeviceOptions {
  /** The levels, e.g. the six stock ones; @dib/block-device knows none by itself. */
  plugins: readonly AnyBlockDevicePlugin[];
  host: Host;
  /** What the host can do; probed on the first `create` when not given. */
  capabilities?: HostCapabilities | undefined;
  /** The build's ledger; opened on `params.buildDir` when not given. Share the build's own. */
  ledger?: Ledger | undefined;
}

export interface InitResult extends FilesystemInfo {
  /** The normalised graph config, as saved in config.json. */
  config: GraphEntry[];
  /** The order `create` will run the nodes in. */
  order: string[];
  stateDir: string;
}

export interface CreateResult {
  state: BlockDeviceState;
  /** The raw image file of `image0` (what the outputs convert). */
  imagePath: string | undefined;
  /** The block device of `image0`. */
  imageDevice: string | undefined;
  /** Where the image's `/` is mounted on the host, if the layout mounts one. */
  rootMount: string | undefined;
  /** Every mounted mount point and where it is on the host, in mount order. */
  mounts: { mountPoint: string; path: string }[];
  order: string[];
}

/** A plan made without a build: the graph of a config and the params it was read with. */
export interface PlanOptions {
  plugins: readonly AnyBlockDevicePlugin[];
  params: BlockDeviceParams;
}

/**
 * Reads a config (YAML text or `file://<path>`), normalises it to graph form, applies the
 * root-filesystem globals and builds the ordered graph. Pure apart from reading the file:
 * nothing is created, so it works without root.
 */
export function planBlockDevice(
  config: string | ConfigSource,
  options: PlanOptions,
): BlockDeviceGraph {
  const registry = new PluginRegistry(options.plugins);
  return plan(
    registry,
    typeof config === "string" ? readConfigSource(config) : config,
    options.params,
  );
}

function plan(
  registry: PluginRegistry,
  source: ConfigSource,
  params: BlockDeviceParams,
): BlockDeviceGraph {
  const normalised = configTreeToGraph(source.value, registry.names, source.file);
  const merged = mergeRootfsParams(normalised.entries, params);
  const graph = buildGraph(merged, registry, params, {
    origins: normalised.origins,
    file: source.file,
  });
  return { ...graph, normalised: normalised.entries };
}

/** Params with DIB's layout below a build directory for whatever is not given. */
export function defaultParams(
  buildDir: string,
  overrides: Partial<Omit<BlockDeviceParams, "buildDir">> = {},
): BlockDeviceParams {
  return {
    buildDir,
    imageDir: overrides.imageDir ?? buildDir,
    mountBase: overrides.mountBase ?? join(buildDir, "mnt"),
    imageSize: overrides.imageSize,
    rootFsType: overrides.rootFsType ?? "ext4",
    rootLabel: overrides.rootLabel ?? null,
    rootFsOpts: overrides.rootFsOpts,
    blockSize: overrides.blockSize,
  };
}

interface Started {
  node: BlockDeviceNode;
  /** The last ledger seq before its create began. */
  mark: number;
}

type WalkStep = "umount" | "cleanup" | "delete";

/**
 * The block-device lifecycle of one build (DIB's dib-block-device commands). Every method
 * takes the params, as DIB passes its params file to every command; the config, state and
 * call order live in `<buildDir>/states/block-device/` between commands, and the nodes are
 * rebuilt from the saved config each time.
 */
export class BlockDevice {
  readonly registry: PluginRegistry;
  private readonly host: Host;
  private capabilities: HostCapabilities | undefined;
  private readonly ledgers = new Map<string, Ledger>();

  constructor(options: BlockDeviceOptions) {
    this.registry = new PluginRegistry(options.plugins);
    this.host = options.host;
    this.capabilities = options.capabilities;
    if (options.ledger) this.ledgers.set("*", options.ledger);
  }

  /** The graph of a config, without saving anything. */
  plan(config: string | ConfigSource, params: BlockDeviceParams): BlockDeviceGraph {
    return plan(
      this.registry,
      typeof config === "string" ? readConfigSource(config) : config,
      params,
    );
  }

  /**
   * Reads and checks the config (YAML text or `file://<path>`), saves its graph form as
   * config.json and reports what the rest of the build needs. May run again once the
   * image size is known.
   */
  async init(params: BlockDeviceParams, config: string | ConfigSource): Promise<InitResult> {
    const graph = this.plan(config, params);
    const store = new StateStore(params.buildDir);
    store.writeConfig(graph.config);
    store.writeParams(params);
    return {
      config: graph.config,
      order: graph.order.map((n) => n.name),
      stateDir: store.dir,
      ...filesystemInfo(graph.config),
    };
  }

  /** DIB's `getval` symbols; the config ones work after `init`, the others after `create`. */
  getval(params: BlockDeviceParams, symbol: string): string {
    const store = new StateStore(params.buildDir);
    return getval(symbol, store.readConfig(), () => store.readState());
  }

  /**
   * Creates every node in order. Tools and host support are checked for all of them
   * before anything is touched. If any node fails, every node started so far is rolled
   * back in reverse (its `rollback`, then whatever it still holds in the ledger), the
   * state is saved and the error is rethrown.
   */
  async create(params: BlockDeviceParams): Promise<CreateResult> {
    const store = new StateStore(params.buildDir);
    if (store.readCreated()) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_STATE",
        "the block device of this build is already created",
        {
          hint: "run `umount` and `cleanup` (or `delete`) first",
          file: store.nodesFile,
        },
      );
    }
    const graph = this.loadGraph(params, store);
    requireTools(toolsOf(graph, params), "for this block-device layout");
    const capabilities = await this.hostCapabilities();
    this.checkSupported(graph, params, capabilities);
    store.writeParams(params);

    const ledger = this.ledgerFor(params.buildDir);
    const state = emptyState();
    const ctx: NodeContext = {
      host: this.host,
      ledger,
      params,
      state,
      capabilities,
      stateDir: store.dir,
    };
    const started: Started[] = [];
    try {
      for (const node of graph.order) {
        started.push({ node, mark: lastSeq(ledger) });
        this.host.debug(`block-device: create ${node.name}`);
        await node.create(ctx);
      }
    } catch (error) {
      this.host.log(`block-device: creating ${started.at(-1)?.node.name} failed; rolling back`);
      await this.rollback(started, ctx);
      store.writeState(state);
      throw error;
    }
    store.writeState(state);
    store.writeCreated({
      order: graph.order.map((n) => n.name),
      held: heldPerNode(started, ledger),
      capabilities,
    });
    return createResult(state, graph);
  }

  /**
   * Writes the image's fstab to `path` (and to the state directory); returns its text. A
   * path in an image tree (below the mount base, or below `root`) is resolved inside that
   * tree, so an image whose /etc is a link to the host's /etc gets its own fstab written.
   */
  writefstab(params: BlockDeviceParams, path?: string, options: { root?: string } = {}): string {
    const store = new StateStore(params.buildDir);
    const text = renderFstab(store.readState());
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.fstabFile, text);
    if (path !== undefined) writeFileSync(fileInTree(path, options.root ?? params.mountBase), text);
    return text;
  }

  /** Unmounts and detaches everything, in reverse order; the image file stays. */
  async umount(params: BlockDeviceParams): Promise<void> {
    const store = new StateStore(params.buildDir);
    if (!store.readCreated()) {
      this.host.log("block-device: State already cleaned - no way to do anything here");
      return;
    }
    await this.walkBack(params, store, "umount");
  }

  /** After `umount` on success: releases what is left and removes the state directory. */
  async cleanup(params: BlockDeviceParams): Promise<void> {
    const store = new StateStore(params.buildDir);
    if (!store.readCreated()) {
      throw new DibError("DIB_BLOCK_DEVICE_STATE", `Node list not found: ${store.nodesFile}`, {
        hint: "nothing was created (run `create`), or it was cleaned up already",
      });
    }
    await this.walkBack(params, store, "cleanup");
    safeRemove(store.dir, { within: params.buildDir });
  }

  /** The error path: releases everything and deletes what was made, image file included. */
  async delete(params: BlockDeviceParams): Promise<void> {
    const store = new StateStore(params.buildDir);
    if (store.readCreated()) await this.walkBack(params, store, "delete");
    else this.host.log("block-device: nothing created, nothing to delete");
    safeRemove(store.dir, { within: params.buildDir });
  }

  // ---------------------------------------------------------------------------------

  private loadGraph(params: BlockDeviceParams, store: StateStore): BlockDeviceGraph {
    return buildGraph(store.readConfig(), this.registry, params, { file: store.configFile });
  }

  private async hostCapabilities(): Promise<HostCapabilities> {
    this.capabilities ??= await probeCapabilities(this.host);
    return this.capabilities;
  }

  private ledgerFor(buildDir: string): Ledger {
    const shared = this.ledgers.get("*");
    if (shared) return shared;
    let ledger = this.ledgers.get(buildDir);
    if (!ledger) {
      ledger = Ledger.open(buildDir, this.host);
      this.ledgers.set(buildDir, ledger);
    }
    return ledger;
  }

  private checkSupported(
    graph: BlockDeviceGraph,
    params: BlockDeviceParams,
    caps: HostCapabilities,
  ): void {
    const context: PluginContext = { graph: graph.config, params };
    const reasons = graph.entries.flatMap((e) => {
      const reason = e.plugin.unsupported?.(e.config, caps, context);
      return reason ? [`${e.origin}: ${reason}`] : [];
    });
    if (reasons.length > 0) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_UNSUPPORTED",
        `this host cannot build this layout: ${reasons.join("; ")}`,
        {
          hint: "run `dib-cli doctor` to see what the kernel here supports",
          details: { reasons, capabilities: caps },
        },
      );
    }
  }

  private async rollback(started: Started[], ctx: NodeContext): Promise<void> {
    const held = heldPerNode(started, ctx.ledger);
    for (const { node } of [...started].reverse()) {
      try {
        await node.rollback?.(ctx);
      } catch (error) {
        this.host.log(`block-device: rollback of ${node.name} failed: ${(error as Error).message}`);
      }
      await this.releaseHeld(ctx.ledger, held[node.name] ?? [], node.name);
    }
  }

  private async releaseHeld(
    ledger: Ledger,
    seqs: readonly number[],
    owner: string,
  ): Promise<unknown[]> {
    const errors: unknown[] = [];
    const stillHeld = new Set(ledger.held().map((e) => e.seq));
    for (const seq of [...seqs].sort((a, b) => b - a)) {
      if (!stillHeld.has(seq)) continue;
      try {
        await ledger.release(seq);
      } catch (error) {
        this.host.log(
          `block-device: could not release what ${owner} holds: ${(error as Error).message}`,
        );
        errors.push(error);
      }
    }
    return errors;
  }

  private async walkBack(
    params: BlockDeviceParams,
    store: StateStore,
    step: WalkStep,
  ): Promise<void> {
    const created = store.readCreated() as CreatedRecord;
    const graph = this.loadGraph(params, store);
    const state = store.readState();
    const ledger = this.ledgerFor(params.buildDir);
    const ctx: NodeContext = {
      host: this.host,
      ledger,
      params,
      state,
      capabilities: created.capabilities,
      stateDir: store.dir,
    };
    const byName = new Map(graph.nodes.map((n) => [n.name, n]));
    const errors: unknown[] = [];
    for (const name of [...created.order].reverse()) {
      const node = byName.get(name);
      try {
        await node?.[step]?.(ctx);
      } catch (error) {
        this.host.log(`block-device: ${step} of ${name} failed: ${(error as Error).message}`);
        errors.push(error);
      }
      errors.push(...(await this.releaseHeld(ledger, created.held[name] ?? [], name)));
    }
    store.writeState(state);
    if (errors.length > 0) {
      const first = errors[0];
      if (errors.length === 1) throw first;
      throw new DibError(
        `DIB_BLOCK_DEVICE_${step.toUpperCase()}`,
        `${step} failed for ${errors.length} node(s)`,
        {
          hint: `${first instanceof Error ? first.message : String(first)}\nthen run: dib-cli cleanup ${params.buildDir}`,
          cause: first,
          details: { errors: errors.map((e) => (e instanceof Error ? e.message : String(e))) },
        },
      );
    }
  }
}

/** Makes the block-device lifecycle for a set of levels. */
export function createBlockDevice(options: BlockDeviceOptions): BlockDevice {
  return new BlockDevice(options);
}

/** Where `path` is when it lies in the tree at `root` (made if missing), else `path` itself. */
function fileInTree(path: string, root: string): string {
  const file = resolve(path);
  if (!isAtOrBelow(file, resolve(root))) {
    mkdirSync(dirname(file), { recursive: true });
    return file;
  }
  mkdirSync(root, { recursive: true });
  const inside = relative(resolve(root), file);
  resolveInRoot(root, dirname(inside), { create: true });
  return resolveInRoot(root, inside);
}

function lastSeq(ledger: Ledger): number {
  return ledger.entries().at(-1)?.seq ?? 0;
}

/** Which ledger entries each started node acquired: those between its mark and the next. */
function heldPerNode(started: readonly Started[], ledger: Ledger): Record<string, number[]> {
  const seqs = ledger.entries().map((e) => e.seq);
  const out: Record<string, number[]> = {};
  started.forEach(({ node, mark }, i) => {
    const next = started[i + 1]?.mark ?? Number.POSITIVE_INFINITY;
    out[node.name] = seqs.filter((s) => s > mark && s <= next);
  });
  return out;
}

function createResult(state: BlockDeviceState, graph: BlockDeviceGraph): CreateResult {
  const mounts = state.mount_order
    .map((mountPoint) => ({ mountPoint, path: state.mount[mountPoint]?.path ?? "" }))
    .filter((m) => m.mountPoint !== "none" && m.path !== "" && m.path !== "none");
  return {
    state,
    imagePath: state.blockdev.image0?.image,
    imageDevice: state.blockdev.image0?.device,
    rootMount: state.mount["/"]?.path,
    mounts,
    order: graph.order.map((n) => n.name),
  };
}
