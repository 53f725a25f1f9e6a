import type { BlockDeviceNode, BlockDevicePlugin, NodeContext } from "@dib/block-device";
import { fstabEntry } from "./fstab-entry.js";
import { type FstabConfig, fstabSchema } from "./schema.js";

class FstabNode implements BlockDeviceNode {
  readonly name: string;
  readonly after: string[];

  constructor(private readonly config: FstabConfig) {
    this.name = config.name;
    this.after = [config.base];
  }

  async create(ctx: NodeContext): Promise<void> {
    ctx.state.fstab[this.config.base] = fstabEntry(this.config, ctx.state);
  }
}

/** Level 4 `fstab`: the /etc/fstab line of a mount; `writefstab` turns them into the file. */
export const fstabPlugin: BlockDevicePlugin<FstabConfig> = {
  name: "fstab",
  schema: fstabSchema,
  nodes: ({ config }) => [new FstabNode(config)],
};
