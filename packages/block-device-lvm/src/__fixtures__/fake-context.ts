import {
  type BlockDeviceState,
  emptyState,
  type HostCapabilities,
  type NodeContext,
} from "@dib/block-device";
import { type Ledger, type LedgerResource, type LoopOptions, RecordingHost } from "@dib/host";

/**
 * A NodeContext for command-sequence tests. The host (@dib/host's RecordingHost) records
 * every argv and answers from `respond`; the ledger records what it holds, runs `acquire`'s create, and on release
 * of a volume group records the `vgchange -an` the real ledger would run.
 */
export function fakeContext(options: {
  state?: Partial<BlockDeviceState>;
  capabilities?: Partial<HostCapabilities>;
  respond?: (argv: readonly string[]) => string | undefined;
}) {
  const host = new RecordingHost(options.respond);
  const commands = host.calls;
  const loops: { file: string; options: LoopOptions; device: string }[] = [];
  const held = new Map<number, LedgerResource>();
  let nextSeq = 1;
  let nextLoop = 20;

  const ledger = {
    async acquire<T>(resource: LedgerResource, create: () => Promise<T>) {
      const seq = nextSeq++;
      held.set(seq, resource);
      return { seq, detail: await create() };
    },
    async attachLoop(file: string, loopOptions: LoopOptions = {}) {
      const seq = nextSeq++;
      held.set(seq, { kind: "loop", file });
      const device = `/dev/loop${nextLoop++}`;
      loops.push({ file, options: loopOptions, device });
      return { seq, detail: { device } };
    },
    async release(seq: number) {
      const resource = held.get(seq);
      held.delete(seq);
      if (resource?.kind === "lvm") commands.push(["vgchange", "-an", resource.vg]);
      if (resource?.kind === "loop") commands.push(["losetup", "--detach", resource.file]);
    },
  } as unknown as Ledger;

  const ctx: NodeContext = {
    host,
    ledger,
    params: {
      buildDir: "/tmp/build",
      imageDir: "/tmp/image",
      mountBase: "/tmp/mnt",
      rootFsType: "ext4",
    },
    state: { ...emptyState(), ...options.state },
    stateDir: "/tmp/build/states/block-device",
    capabilities: {
      deviceMapper: true,
      loopPartitionScan: false,
      partxAdd: false,
      vfatMount: false,
      ...options.capabilities,
    },
  };
  return { ctx, commands, loops, held };
}
