import { randomUUID } from "node:crypto";
import type { BlockDeviceNode, BlockDevicePlugin, NodeContext } from "@dib/block-device";
import { DibError } from "@dib/host";
import { checkLabelLength, checkLabelUnique, labelOf, labelsOf } from "./labels.js";
import { mkfsCommand, mkfsTool } from "./mkfs-command.js";
import { type MkfsConfig, mkfsSchema } from "./schema.js";

class MkfsNode implements BlockDeviceNode {
  readonly name: string;
  readonly after: string[];

  constructor(
    private readonly config: MkfsConfig,
    private readonly label: string,
    private readonly allLabels: string[],
  ) {
    this.name = config.name;
    this.after = [config.base];
  }

  async create(ctx: NodeContext): Promise<void> {
    const { state, host } = ctx;
    const device = state.blockdev[this.config.base]?.device;
    if (!device) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_STATE",
        `mkfs ${this.name}: block device ${this.config.base} was not created`,
        {
          hint: `its base must be a disk, partition or volume node`,
        },
      );
    }
    const uuid = this.config.uuid ?? randomUUID();
    await host.run(mkfsCommand(this.config, this.label, uuid, device), {
      hint: `making the ${this.config.type} filesystem ${this.name} on ${device}`,
    });
    state.filesys[this.name] = {
      uuid,
      label: this.label,
      fstype: this.config.type,
      opts: this.config.opts ?? null,
      device,
    };
    state.fs_labels = this.allLabels;
  }
}

/** Level 2 `mkfs`: a filesystem with a label and a UUID on a disk, partition or volume. */
export const mkfsPlugin: BlockDevicePlugin<MkfsConfig> = {
  name: "mkfs",
  schema: mkfsSchema,
  nodes: ({ config, graph, index }) => {
    const label = labelOf(config);
    checkLabelLength(label, config.type);
    checkLabelUnique(label, graph, index);
    return [new MkfsNode(config, label, labelsOf(graph))];
  },
  tools: (config) => [mkfsTool(config.type)],
};
