import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  type BlockDeviceState,
  emptyState,
  type HostCapabilities,
  type NodeContext,
} from "@dib/block-device";
import type { Host, Ledger, LoopOptions, RunOptions, RunResult } from "@dib/host";

const run = promisify(execFile);

interface FakeLedgerCall {
  op: "acquire" | "attachLoop" | "addPartitions" | "release";
  args: unknown[];
}

/**
 * A NodeContext for command-sequence tests: the host records every argv and runs only
 * sgdisk and sfdisk (against a plain file standing in for the loop device); the ledger
 * records what it was asked to hold and hands out made-up loop devices.
 */
export function fakeContext(
  state: Partial<BlockDeviceState>,
  capabilities: Partial<HostCapabilities> = {},
) {
  const commands: string[][] = [];
  const ledgerCalls: FakeLedgerCall[] = [];
  let nextLoop = 10;
  let nextSeq = 1;
  const held = new Set<number>();

  const host = {
    async run(argv: readonly string[], _options: RunOptions = {}): Promise<RunResult> {
      commands.push([...argv]);
      let stdout = "";
      if (argv[0] === "blockdev" && argv[1] === "--getss") stdout = "512\n";
      else if (argv[0] === "sgdisk" || argv[0] === "sfdisk") {
        stdout = (await run(argv[0], argv.slice(1), { encoding: "utf8" })).stdout;
      }
      return { argv: [...argv], exitCode: 0, stdout, stderr: "", durationMs: 0 };
    },
    debug() {},
    log() {},
  } as unknown as Host;

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
