import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DibError } from "@dib/host";
import type {
  BlockDeviceParams,
  BlockDeviceState,
  GraphEntry,
  HostCapabilities,
} from "./plugin.js";

/** `<buildDir>/states/block-device`: config.json, state.json, nodes.json, params.json, fstab. */
export function stateDirOf(buildDir: string): string {
  return join(buildDir, "states", "block-device");
}

/** What `create` left for the later commands (DIB keeps this in nodes.pickle). */
export interface CreatedRecord {
  /** The call order of create. */
  order: string[];
  /** The ledger entries each node's create acquired. */
  held: Record<string, number[]>;
  /** The host capabilities create adapted to. */
  capabilities: HostCapabilities;
}

export function emptyState(): BlockDeviceState {
  return {
    blockdev: {},
    filesys: {},
    fs_labels: [],
    sorted_mount_points: [],
    mount: {},
    mount_order: [],
    fstab: {},
  };
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  // Written whole or not at all: a crash must not leave a torn state for cleanup to read.
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** The files of one build's block-device state directory. */
export class StateStore {
  readonly dir: string;

  constructor(buildDir: string) {
    this.dir = stateDirOf(buildDir);
  }

  get configFile(): string {
    return join(this.dir, "config.json");
  }
  get stateFile(): string {
    return join(this.dir, "state.json");
  }
  get nodesFile(): string {
    return join(this.dir, "nodes.json");
  }
  get paramsFile(): string {
    return join(this.dir, "params.json");
  }
  get fstabFile(): string {
    return join(this.dir, "fstab");
  }

  writeConfig(config: GraphEntry[]): void {
    writeJson(this.configFile, config);
  }

  readConfig(): GraphEntry[] {
    const config = readJson<GraphEntry[]>(this.configFile);
    if (config === undefined) {
      throw new DibError(
        "DIB_BLOCK_DEVICE_STATE",
        `Block-device config not found: ${this.configFile}`,
        {
          hint: "run `init` first",
        },
      );
    }
    return config;
  }

  writeParams(params: BlockDeviceParams): void {
    writeJson(this.paramsFile, params);
  }

  readParams(): BlockDeviceParams | undefined {
    return readJson<BlockDeviceParams>(this.paramsFile);
  }

  writeState(state: BlockDeviceState): void {
    writeJson(this.stateFile, state);
  }

  readState(): BlockDeviceState {
    const state = readJson<BlockDeviceState>(this.stateFile);
    if (state === undefined) {
      throw new DibError("DIB_BLOCK_DEVICE_STATE", `State dump not found: ${this.stateFile}`, {
        hint: "nothing was created yet (run `create`), or it was cleaned up already",
      });
    }
    return state;
  }

  hasState(): boolean {
    return existsSync(this.stateFile);
  }

  writeCreated(record: CreatedRecord): void {
    writeJson(this.nodesFile, record);
  }

  readCreated(): CreatedRecord | undefined {
    return readJson<CreatedRecord>(this.nodesFile);
  }
}
