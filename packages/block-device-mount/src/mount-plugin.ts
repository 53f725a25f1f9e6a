import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import type {
  BlockDeviceNode,
  BlockDevicePlugin,
  NodeContext,
  PluginContext,
} from "@dib/block-device";
import { DibError, type Ledger, resolveInRoot } from "@dib/host";
import { checkMountPointUnique, previousMount, sortedMountPoints } from "./mount-order.js";
import { type MountConfig, mountSchema } from "./schema.js";
import { writeStagingInto } from "./vfat-staging.js";

const FAT = new Set(["vfat", "fat"]);
/** Filesystems fstrim cannot trim (DIB skips vfat). */
const NO_TRIM = new Set(["vfat", "fat", "swap"]);

function mountsAt(ledger: Ledger, path: string) {
  const target = existsSync(path) ? realpathSync(path) : resolve(path);
  return ledger.held().filter((e) => e.resource.kind === "mount" && e.resource.target === target);
}

class MountNode implements BlockDeviceNode {
  readonly name: string;
  readonly after: string[];

  constructor(
    private readonly config: MountConfig,
    private readonly sorted: [string, string][],
    previous: string | undefined,
  ) {
    this.name = config.name;
    this.after = previous === undefined ? [config.base] : [config.base, previous];
  }

  async create(ctx: NodeContext): Promise<void> {
    const { state, params, ledger, capabilities } = ctx;
    state.sorted_mount_points = this.sorted;
    const fs = state.filesys[this.config.base];
    if (!fs) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_STATE",
        `mount ${this.name}: filesystem ${this.config.base} was not made`,
        {
          hint: "the base of a mount must be an mkfs node",
        },
      );
    }
    if (fs.fstype === "swap") {
      state.mount.none = { name: this.name, base: this.config.base, path: "none" };
      state.mount_order.push("none");
      return;
    }
    const mountPoint = this.config.mount_point;
    // The filesystems mounted so far are the image's tree: a symlink there (an element made
    // /boot a link to /../../etc) is resolved inside it, never followed onto the host.
    mkdirSync(params.mountBase, { recursive: true });
    const path = resolveInRoot(params.mountBase, mountPoint, { create: true });
    if (FAT.has(fs.fstype) && !capabilities.vfatMount) {
      // Hooks see an ordinary directory here; umount writes its content with mtools.
      const staging = join(ctx.stateDir, "vfat-staging", this.name);
      mkdirSync(staging, { recursive: true });
      await ledger.mount({ source: staging, target: path, bind: true });
      state.mount[mountPoint] = { name: this.name, base: this.config.base, path, staging };
    } else {
      await ledger.mount({ source: fs.device, target: path, fstype: fs.fstype });
      state.mount[mountPoint] = { name: this.name, base: this.config.base, path };
    }
    state.mount_order.push(mountPoint);
  }

  async umount(ctx: NodeContext): Promise<void> {
    const { state, host, ledger } = ctx;
    const entry = state.mount[this.config.mount_point];
    if (!entry || entry.name !== this.name || entry.path === "none") return;
    const held = mountsAt(ledger, entry.path);
    if (held.length === 0) return; // unmounted already
    const fs = state.filesys[this.config.base];
    await host.run(["sync"]);
    if (fs && !NO_TRIM.has(fs.fstype) && typeof entry.staging !== "string") {
      const trim = await host.run(["fstrim", "--verbose", entry.path], { allowFailure: true });
      if (trim.exitCode !== 0)
        host.log(`fstrim ${entry.path}: ${trim.stderr.trim()} (not trimmed)`);
    }
    for (const h of held.reverse()) await ledger.release(h.seq);
    if (typeof entry.staging === "string" && fs)
      await writeStagingInto(host, entry.staging, fs.device);
  }

  async delete(ctx: NodeContext): Promise<void> {
    const entry = ctx.state.mount[this.config.mount_point];
    if (!entry || entry.name !== this.name || entry.path === "none") return;
    for (const h of mountsAt(ctx.ledger, entry.path).reverse()) await ctx.ledger.release(h.seq);
  }
}

function fsTypeOf(config: MountConfig, context: PluginContext | undefined): string | undefined {
  const mkfs = context?.graph.find((e) => e.mkfs?.name === config.base)?.mkfs;
  return typeof mkfs?.type === "string" ? mkfs.type : undefined;
}

/**
 * Level 3 `mount`: mounts each filesystem below the mount base, parents first, and
 * unmounts them in reverse after `sync` and `fstrim`. Where the kernel cannot mount vfat,
 * a staging directory is bind-mounted in its place and written into the filesystem with
 * mtools on umount, so hooks see the same tree either way.
 */
export const mountPlugin: BlockDevicePlugin<MountConfig> = {
  name: "mount",
  schema: mountSchema,
  nodes: ({ config, graph, index }) => {
    checkMountPointUnique(config.mount_point, graph, index);
    return [new MountNode(config, sortedMountPoints(graph), previousMount(graph, config.name))];
  },
  tools: (config, context) => {
    const type = fsTypeOf(config, context);
    if (type === "swap") return [];
    return [
      "mount",
      "umount",
      "sync",
      "fstrim",
      ...(type !== undefined && FAT.has(type) ? ["mcopy"] : []),
    ];
  },
};
