/*
 * Changes since the first draft (all additive for plugin authors; existing plugins keep
 * compiling and working unchanged):
 *  - PluginInput gains `index` (this entry's position in the graph config) and `origin`
 *    (where the entry came from in the user's file, for error messages).
 *  - `tools` and `unsupported` get a second/third optional `PluginContext` argument
 *    ({ graph, params }) so a level can decide from its neighbours (mount needs mtools
 *    only when it mounts a vfat filesystem).
 *  - NodeContext gains `stateDir` (`<buildDir>/states/block-device`), where a node may
 *    keep files between commands (removed by cleanup/delete).
 *  - `filesys[].opts` is the mkfs `opts` string as written in the config, or null
 *    (DIB's state.json shape), not a list.
 */
import type { Host, Ledger } from "@dib/host";
import type { ZodType } from "zod";

/**
 * Parameters every node sees (DIB's params.yaml). Sizes are bytes.
 */
export interface BlockDeviceParams {
  /** The build directory; state lives in `<buildDir>/states/block-device/`. */
  buildDir: string;
  /** Where local_loop puts `<name>.raw` unless the node says `directory`. */
  imageDir: string;
  /** Where mounts go: `/` is mounted at `mountBase`, `/boot` at `mountBase/boot`. */
  mountBase: string;
  /** The image size in bytes (from the size calculation or --image-size). */
  imageSize?: number | undefined;
  /** FS_TYPE: type of the mkfs node named `mkfs_root` when it has none. */
  rootFsType: string;
  /** ROOT_LABEL / --root-label; null means "use the default". */
  rootLabel?: string | null | undefined;
  /** MKFS_OPTS for `mkfs_root`. */
  rootFsOpts?: string | undefined;
  /** DIB_BLOCK_SIZE: overrides `block_size` of local_loop. */
  blockSize?: number | undefined;
}

/** Host features the levels adapt to (probed once, passed in). */
export interface HostCapabilities {
  /** /dev/mapper/control works: kpartx, LVM activation. */
  deviceMapper: boolean;
  /** `losetup -P` makes partition nodes (the kernel has partition-table parsers). */
  loopPartitionScan: boolean;
  /** `partx -a` can add partition nodes to a loop device (BLKPG). */
  partxAdd: boolean;
  /** The kernel can mount vfat. */
  vfatMount: boolean;
}

/** One device the graph made: a loop device, a partition, a logical volume. */
export interface BlockDevEntry {
  device: string;
  image?: string;
  [key: string]: unknown;
}

/** What mkfs made (state.filesys[name]). */
export interface FilesysEntry {
  uuid: string;
  label: string;
  fstype: string;
  /** The `opts` string of the config entry, or null. */
  opts: string | null;
  device: string;
}

/** What mount did for one mount point (state.mount[mountPoint]). */
export interface MountEntry {
  name: string;
  base: string;
  /** Where it is mounted on the host; `none` for swap. */
  path: string;
  [key: string]: unknown;
}

/** One fstab line's settings (state.fstab[mountNodeName]). */
export interface FstabEntry {
  name: string;
  base: string;
  options: string;
  "dump-freq": number;
  "fsck-passno": number;
}

/**
 * The shared state (DIB's state.json). Keys and shapes follow DIB so that `getval` and
 * element hooks see what they expect; plugins may add their own keys.
 */
export interface BlockDeviceState {
  blockdev: Record<string, BlockDevEntry>;
  filesys: Record<string, FilesysEntry>;
  fs_labels: string[];
  sorted_mount_points: [string, string][];
  mount: Record<string, MountEntry>;
  mount_order: string[];
  fstab: Record<string, FstabEntry>;
  [key: string]: unknown;
}

/** What a node's lifecycle methods get. All host access goes through `host` and `ledger`. */
export interface NodeContext {
  host: Host;
  ledger: Ledger;
  params: BlockDeviceParams;
  state: BlockDeviceState;
  capabilities: HostCapabilities;
  /** `<buildDir>/states/block-device`: a node may keep files here (removed by cleanup). */
  stateDir: string;
}

/**
 * A node of the block-device graph. Nodes are rebuilt from the saved config for every
 * lifecycle command, so anything `umount`/`cleanup` need must be kept in `state`.
 *
 * Whatever a node's `create` acquires through the ledger is remembered per node: on a
 * failed create, and after `umount`/`cleanup`/`delete`, the core releases what the node
 * still holds, so a node only has to release things itself when the order matters.
 */
export interface BlockDeviceNode {
  readonly name: string;
  /** Names of the nodes this one is built on (edges into it). */
  readonly after: readonly string[];
  /** Names of nodes that must come after this one (rare: LVM's pvs). */
  readonly before?: readonly string[];
  create(ctx: NodeContext): Promise<void>;
  /** Undo what create did to the host, leaving the image file. Default: nothing. */
  umount?(ctx: NodeContext): Promise<void>;
  /** After umount on success: release what is left (the image file stays). */
  cleanup?(ctx: NodeContext): Promise<void>;
  /** After umount on failure: also delete what was made (the image file). */
  delete?(ctx: NodeContext): Promise<void>;
  /** A create of this or a later node failed: undo what this node's create did. */
  rollback?(ctx: NodeContext): Promise<void>;
}

/** Everything a plugin sees while it turns its config entry into nodes. */
export interface PluginInput<C> {
  config: C;
  params: BlockDeviceParams;
  /** The whole normalised graph config, for plugins that look at their neighbours. */
  graph: readonly GraphEntry[];
  /** This entry's position in `graph` (entries before it were validated first). */
  index: number;
  /** Where the entry came from in the user's config, e.g. `[1].partitioning.partitions[0].mkfs`. */
  origin: string;
}

/** What `tools` and `unsupported` may look at besides their own entry. */
export interface PluginContext {
  graph: readonly GraphEntry[];
  params: BlockDeviceParams;
}

/** A disk a level provides, as a layout needs it: its size and logical sector size, in bytes. */
export interface DiskGeometry {
  size: number;
  blockSize: number;
}

/** One partition table a config makes, in 512-byte sectors (`block-device layout`). */
export interface PartitionTableLayout {
  name: string;
  label: "mbr" | "gpt";
  partitions: {
    name: string;
    number: number;
    start: number;
    end: number;
    type: string;
    flags: string[];
  }[];
}

/** What a `layout` hook may look at: its neighbours, and the disks they provide. */
export interface LayoutContext extends PluginContext {
  /** Where the entry came from in the user's config, for error messages. */
  origin: string;
  /** The geometry of the disk node `name`, if a level provides one (local_loop does). */
  disk(name: string): DiskGeometry | undefined;
}

/** One level: `local_loop`, `partitioning`, `lvm`, `mkfs`, `mount`, `fstab`, or a third party's. */
export interface BlockDevicePlugin<C = unknown> {
  /** The YAML key, e.g. `local_loop`. */
  readonly name: string;
  /** Strict schema of one entry: an unknown key is an error naming its path. */
  readonly schema: ZodType<C>;
  /** Validates beyond the schema (DIB's error texts) and makes the nodes. Pure. */
  nodes(input: PluginInput<C>): BlockDeviceNode[];
  /** Host tools the nodes will run for this config, checked before anything is created. */
  tools?(config: C, context?: PluginContext): string[];
  /** A reason this config cannot work on this host, found before anything is created. */
  unsupported?(
    config: C,
    capabilities: HostCapabilities,
    context?: PluginContext,
  ): string | undefined;
  /** For a level that provides a disk (local_loop): the disk's name and geometry. Pure. */
  disk?(config: C, params: BlockDeviceParams): { name: string } & DiskGeometry;
  /** For a level that partitions a disk: the table this entry makes, planned without a host. */
  layout?(config: C, context: LayoutContext): PartitionTableLayout;
}

/** One entry of the normalised graph config: `{ <plugin>: { name, base?, ... } }`. */
export type GraphEntry = Record<string, Record<string, unknown>>;
