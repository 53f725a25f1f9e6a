import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import {
  type BlockDeviceNode,
  type BlockDeviceParams,
  type BlockDevicePlugin,
  type NodeContext,
  parseAbsoluteSize,
} from "@dib/block-device";
import { DibError, type Ledger } from "@dib/host";
import { type LocalLoopConfig, localLoopSchema } from "./schema.js";

const SECTOR_SIZES = [512, 4096];

/** The image file of a local_loop node. */
export function imageFileOf(config: LocalLoopConfig, params: BlockDeviceParams): string {
  return resolve(config.directory ?? params.imageDir, `${config.name}.raw`);
}

/** The logical sector size: DIB_BLOCK_SIZE, else the config's `block_size`, else 512. */
export function blockSizeOf(config: LocalLoopConfig, params: BlockDeviceParams): number {
  return params.blockSize ?? config.block_size ?? 512;
}

/** The size of the image file in bytes: the config's `size`, else the build's image size. */
export function imageSizeOf(config: LocalLoopConfig, params: BlockDeviceParams): number {
  if (config.size !== undefined) return parseAbsoluteSize(config.size);
  if (params.imageSize !== undefined) return params.imageSize;
  throw new DibError("DIB_BLOCK_DEVICE_SIZE", `local_loop ${config.name} has no size`, {
    hint: "give the image size (--image-size, DIB_IMAGE_SIZE) or a `size` in the local_loop entry",
  });
}

function sameFile(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

/** The ledger entries holding a loop device on `file`. */
function loopsOn(ledger: Ledger, file: string) {
  return ledger.held().filter((e) => e.resource.kind === "loop" && sameFile(e.resource.file, file));
}

async function detach(ledger: Ledger, file: string): Promise<void> {
  for (const entry of loopsOn(ledger, file).reverse()) await ledger.release(entry.seq);
}

function createSparseFile(file: string, size: number): void {
  const fd = openSync(file, "w");
  try {
    if (size > 0) writeSync(fd, Buffer.alloc(1), 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
}

class LocalLoopNode implements BlockDeviceNode {
  readonly after: string[] = [];
  readonly name: string;
  private createdFile: string | undefined;

  constructor(private readonly config: LocalLoopConfig) {
    this.name = config.name;
  }

  async create(ctx: NodeContext): Promise<void> {
    const { params, ledger, host, state } = ctx;
    const size = imageSizeOf(this.config, params);
    const blockSize = blockSizeOf(this.config, params);
    if (!SECTOR_SIZES.includes(blockSize)) {
      host.log(
        `local_loop ${this.name}: block size ${blockSize} is neither 512 nor 4096; trying it anyway`,
      );
    }
    const file = imageFileOf(this.config, params);
    mkdirSync(join(file, ".."), { recursive: true });
    createSparseFile(file, size);
    this.createdFile = file;
    const loop = await ledger.attachLoop(file, { sectorSize: blockSize });
    state.blockdev[this.name] = { device: loop.detail.device, image: file };
  }

  async rollback(ctx: NodeContext): Promise<void> {
    if (this.createdFile === undefined) return;
    await detach(ctx.ledger, this.createdFile);
    rmSync(this.createdFile, { force: true });
  }

  async umount(ctx: NodeContext): Promise<void> {
    const image = ctx.state.blockdev[this.name]?.image;
    if (image) await detach(ctx.ledger, image);
  }

  async delete(ctx: NodeContext): Promise<void> {
    const image = ctx.state.blockdev[this.name]?.image;
    if (!image) return;
    await detach(ctx.ledger, image);
    rmSync(image, { force: true });
  }
}

/** Level 0 `local_loop`: a sparse `<name>.raw` file attached to a loop device. */
export const localLoopPlugin: BlockDevicePlugin<LocalLoopConfig> = {
  name: "local_loop",
  schema: localLoopSchema,
  nodes: ({ config }) => [new LocalLoopNode(config)],
  tools: () => ["losetup"],
  disk: (config, params) => ({
    name: config.name,
    size: imageSizeOf(config, params),
    blockSize: blockSizeOf(config, params),
  }),
};
