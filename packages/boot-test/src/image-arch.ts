import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Host } from "@dib/host";
import type { GuestArch } from "./guest-arch.js";

const SECTOR = 512;
/** The EFI system partition's type GUID, as GPT stores it (mixed-endian). */
const ESP_TYPE = "28732ac11ff8d211ba4b00a0c93ec93b";
/** How much of the ESP is read: its FAT and root folders sit at the start. */
const ESP_READ_BYTES = 32 * 1024 * 1024;

/** Where the EFI system partition is: from a GPT (LBA 1 on) or an MBR partition of type 0xEF. */
export function findEsp(head: Buffer): { startSector: number; sectors: number } | undefined {
  const gpt = head.subarray(SECTOR, SECTOR + 92);
  if (gpt.length >= 92 && gpt.toString("latin1", 0, 8) === "EFI PART") {
    const entriesLba = Number(gpt.readBigUInt64LE(72));
    const count = gpt.readUInt32LE(80);
    const size = gpt.readUInt32LE(84);
    for (let i = 0; i < count; i++) {
      const at = entriesLba * SECTOR + i * size;
      if (at + 128 > head.length) break;
      const entry = head.subarray(at, at + 128);
      if (entry.toString("hex", 0, 16) !== ESP_TYPE) continue;
      const first = Number(entry.readBigUInt64LE(32));
      const last = Number(entry.readBigUInt64LE(40));
      return { startSector: first, sectors: last - first + 1 };
    }
    return undefined;
  }
  if (head.length >= SECTOR && head.readUInt16LE(510) === 0xaa55) {
    for (let i = 0; i < 4; i++) {
      const entry = head.subarray(446 + i * 16, 462 + i * 16);
      if (entry[4] !== 0xef) continue;
      return { startSector: entry.readUInt32LE(8), sectors: entry.readUInt32LE(12) };
    }
  }
  return undefined;
}

/**
 * The architecture the UEFI loaders on an ESP are for, from a recursive listing of it:
 * the removable-media path (EFI/BOOT/BOOTAA64.EFI, BOOTX64.EFI) first, then a
 * distribution's own loader (grubaa64.efi, shimx64.efi …).
 */
export function archOfEfiListing(listing: string): GuestArch | undefined {
  const names = listing.toLowerCase();
  if (/\/efi\/boot\/bootaa64\.efi\b/.test(names)) return "arm64";
  if (/\/efi\/boot\/bootx64\.efi\b/.test(names)) return "amd64";
  if (/(grub|shim)aa64\.efi\b/.test(names)) return "arm64";
  if (/(grub|shim)x64\.efi\b/.test(names)) return "amd64";
  return undefined;
}

/**
 * Which architecture a disk image boots: read from the UEFI loaders on its EFI system
 * partition (with qemu-img, so any format qemu knows, and mtools, so nothing is mounted).
 * undefined for an image without an ESP (a BIOS image: amd64) or one it cannot tell.
 */
export async function imageArch(
  host: Host,
  image: string,
  format: string,
  tmpDir: string = tmpdir(),
): Promise<GuestArch | undefined> {
  const dir = mkdtempSync(join(tmpDir, "dib-image-arch-"));
  try {
    // Sectors [skip, skip + count) of the image as a raw file, whatever its format.
    const sectors = async (out: string, skip: number, count: number) => {
      const argv = ["qemu-img", "dd", "-f", format, "-O", "raw", `bs=${SECTOR}`];
      if (skip > 0) argv.push(`skip=${skip}`);
      await host.run([...argv, `count=${count}`, `if=${image}`, `of=${out}`]);
      return out;
    };
    // 34 sectors: the MBR, the GPT header and 128 partition entries.
    const head = await sectors(join(dir, "head.raw"), 0, 34);
    const esp = findEsp(readHead(head, 34 * SECTOR));
    if (!esp) return undefined;
    const count = Math.min(esp.sectors, ESP_READ_BYTES / SECTOR);
    const part = await sectors(join(dir, "esp.raw"), esp.startSector, count);
    const listing = await host.run(["mdir", "-/", "-b", "-i", part, "::/"], {
      allowFailure: true,
      env: { MTOOLS_SKIP_CHECK: "1" },
    });
    return listing.exitCode === 0 ? archOfEfiListing(listing.stdout) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readHead(file: string, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  const fd = openSync(file, "r");
  try {
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
