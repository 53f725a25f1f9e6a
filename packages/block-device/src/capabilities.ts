import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { type Host, Ledger, safeRemove } from "@dib/host";
import type { HostCapabilities } from "./plugin.js";

const MiB = 1024 * 1024;

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Opening the control node is what kpartx and LVM do first; ENODEV means no driver. */
function deviceMapperUsable(): boolean {
  try {
    closeSync(openSync("/dev/mapper/control", "r+"));
    return true;
  } catch {
    return false;
  }
}

/** A sparse file with an MBR holding one 1 MiB partition at 1 MiB. */
function writePartitionedFile(file: string): void {
  const fd = openSync(file, "w");
  try {
    const mbr = Buffer.alloc(512);
    const entry = 446;
    mbr[entry + 4] = 0x83;
    mbr.writeUInt32LE(2048, entry + 8);
    mbr.writeUInt32LE(2048, entry + 12);
    mbr.writeUInt16LE(0xaa55, 510);
    writeSync(fd, mbr, 0, 512, 0);
    writeSync(fd, Buffer.alloc(1), 0, 1, 4 * MiB - 1);
  } finally {
    closeSync(fd);
  }
}

function sparseFile(file: string, size: number): void {
  const fd = openSync(file, "w");
  try {
    writeSync(fd, Buffer.alloc(1), 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
}

async function firstPartitionAppears(device: string): Promise<boolean> {
  const name = basename(device);
  for (let i = 0; i < 20; i++) {
    if (existsSync(`/sys/block/${name}/${name}p1`)) return true;
    await sleep(50);
  }
  return false;
}

async function probeLoopPartitionScan(host: Host, ledger: Ledger, dir: string): Promise<boolean> {
  const file = join(dir, "scan.img");
  writePartitionedFile(file);
  const held = await ledger.acquire({ kind: "loop", file }, async () => {
    // The ledger's attachLoop has no --partscan: the resource is the same loop-by-file.
    const { stdout } = await host.run(["losetup", "--show", "--find", "--partscan", file]);
    return { device: stdout.trim() };
  });
  const found = await firstPartitionAppears(held.detail.device);
  await ledger.release(held.seq);
  return found;
}

async function probePartxAdd(host: Host, ledger: Ledger, dir: string): Promise<boolean> {
  const file = join(dir, "partx.img");
  writePartitionedFile(file);
  const loop = await ledger.attachLoop(file);
  let found = false;
  try {
    const parts = await ledger.addPartitions(loop.detail.device, file);
    found = await firstPartitionAppears(loop.detail.device);
    await ledger.release(parts.seq);
  } catch (error) {
    host.debug(`partx -a does not work here: ${(error as Error).message}`);
  }
  await ledger.release(loop.seq);
  return found;
}

async function probeVfatMount(host: Host, ledger: Ledger, dir: string): Promise<boolean> {
  const file = join(dir, "vfat.img");
  sparseFile(file, 8 * MiB);
  try {
    await host.run(["mkfs.vfat", file]);
  } catch (error) {
    host.debug(`cannot probe vfat mounting: ${(error as Error).message}`);
    return false;
  }
  const target = join(dir, "mnt");
  mkdirSync(target);
  const loop = await ledger.attachLoop(file);
  let mounted = false;
  try {
    const mount = await ledger.mount({ source: loop.detail.device, target, fstype: "vfat" });
    mounted = true;
    await ledger.release(mount.seq);
  } catch (error) {
    host.debug(`the kernel cannot mount vfat: ${(error as Error).message}`);
  }
  await ledger.release(loop.seq);
  return mounted;
}

/**
 * Finds out what this host's kernel can do for the block-device levels, by trying it on
 * small files in a temporary directory (everything goes through a ledger there and is
 * released before returning). Without root nothing can be tried and everything is false.
 */
export async function probeCapabilities(host: Host): Promise<HostCapabilities> {
  const caps: HostCapabilities = {
    deviceMapper: deviceMapperUsable(),
    loopPartitionScan: false,
    partxAdd: false,
    vfatMount: false,
  };
  if (process.getuid?.() !== 0) return caps;
  const dir = mkdtempSync(join(tmpdir(), "dib-probe-"));
  const ledger = Ledger.open(dir, host);
  try {
    caps.loopPartitionScan = await probeLoopPartitionScan(host, ledger, dir);
    caps.partxAdd = await probePartxAdd(host, ledger, dir);
    caps.vfatMount = await probeVfatMount(host, ledger, dir);
  } finally {
    await ledger.undo();
    safeRemove(dir);
  }
  return caps;
}
