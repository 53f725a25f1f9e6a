import {
  type BlockDeviceState,
  emptyState,
  type HostCapabilities,
  type NodeContext,
} from "@dib/block-device";
import { Host, type Ledger, type LoopOptions, RecordingHost } from "@dib/host";

interface FakeLedgerCall {
  op: "acquire" | "attachLoop" | "addPartitions" | "release";
  args: unknown[];
}

/**
 * A NodeContext for command-sequence tests: the host (@dib/host's RecordingHost) records
 * every argv and really runs only sgdisk and sfdisk (against a plain file standing in for
 * the loop device); the ledger records what it was asked to hold and hands out made-up
 * loop devices.
 */
export function fakeContext(
  state: Partial<BlockDeviceState>,
  capabilities: Partial<HostCapabilities> = {},
) {
  const real = new Host({ log: () => {} });
  const host = new RecordingHost(async (argv, options) => {
    if (argv[0] === "blockdev" && argv[1] === "--getss") return "512\n";
    if (argv[0] === "sgdisk" || argv[0] === "sfdisk") return (await real.run(argv, options)).stdout;
    return undefined;
  });
  const commands = host.calls;
  const ledgerCalls: FakeLedgerCall[] = [];
  let nextLoop = 10;
  let nextSeq = 1;
  const held = new Set<number>();

  const ledger = {
    async acquire<T>(resource: unknown, create: () => Promise<T>) {
      const seq = nextSeq++;
      held.add(seq);
      ledgerCalls.push({ op: "acquire", args: [resource] });
      return { seq, detail: await create() };
    },
    entries() {
      return [...held].map((seq) => ({ seq, released: false }));
    },
    held() {
      return [...held].map((seq) => ({ seq, released: false }));
    },
    async attachLoop(file: string, options: LoopOptions = {}) {
      const seq = nextSeq++;
      held.add(seq);
      ledgerCalls.push({ op: "attachLoop", args: [file, options] });
      return { seq, detail: { device: `/dev/loop${nextLoop++}` } };
    },
    async addPartitions(device: string, file: string) {
      const seq = nextSeq++;
      held.add(seq);
      ledgerCalls.push({ op: "addPartitions", args: [device, file] });
      return { seq, detail: { device } };
    },
    async release(seq: number) {
      held.delete(seq);
      ledgerCalls.push({ op: "release", args: [seq] });
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
    state: { ...emptyState(), ...state },
    stateDir: "/tmp/build/states/block-device",
    capabilities: {
      deviceMapper: false,
      loopPartitionScan: false,
      partxAdd: false,
      vfatMount: false,
      ...capabilities,
    },
  };
  return { ctx, commands, ledgerCalls, held };
}
