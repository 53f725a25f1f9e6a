import type { MbrEntry, MbrPlan } from "./mbr-plan.js";

/** Bytes to put at a byte offset of the disk. */
export interface DiskWrite {
  offset: number;
  data: Uint8Array;
}

const HEADS = 255;
const SECTORS_PER_TRACK = 63;
const MAX_CYLINDER = 1023;

/**
 * The 3-byte CHS address of an LBA, encoded the standard way (head; sector with the
 * cylinder's bits 8–9 in its top two bits; cylinder's low byte) on the 255×63 geometry that
 * fdisk and sfdisk use. Past cylinder 1023 it is the conventional (1023, 254, 63) marker.
 * DIB puts `cylinder // 4` into the sector byte instead (its CHS quirk) and gives the end
 * address one sector past the partition; nothing reads CHS any more, so we write what
 * the standard tools write.
 */
export function encodeChs(lba: number): [number, number, number] {
  let cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  let head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  let sector = (lba % SECTORS_PER_TRACK) + 1;
  if (cylinder > MAX_CYLINDER) {
    cylinder = MAX_CYLINDER;
    head = HEADS - 1;
    sector = SECTORS_PER_TRACK;
  }
  return [head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff];
}

/** One 16-byte entry; `base` is what its start is relative to (0, the EBR or the extended start). */
function encodeEntry(target: DataView, at: number, entry: MbrEntry, base: number): void {
  const first = base + entry.start;
  const last = first + entry.length - 1;
  target.setUint8(at, entry.boot ? 0x80 : 0x00);
  const [h0, s0, c0] = encodeChs(first);
  const [h1, s1, c1] = encodeChs(last);
  for (const [i, byte] of [h0, s0, c0, entry.type, h1, s1, c1].entries())
    target.setUint8(at + 1 + i, byte);
  target.setUint32(at + 8, entry.start, true);
  target.setUint32(at + 12, entry.length, true);
}

/**
 * What to write to a fresh disk for `plan`: the MBR's disk id, four slots and signature
 * (bytes 440–511 of sector 0, leaving the boot code area alone), and one full 512-byte
 * EBR per logical partition. Pure, so it is tested byte for byte without a disk.
 */
export function mbrWrites(plan: MbrPlan, diskId: number): DiskWrite[] {
  const writes: DiskWrite[] = [];

  const mbr = new Uint8Array(72);
  const mbrView = new DataView(mbr.buffer);
  mbrView.setUint32(0, diskId >>> 0, true);
  for (const [i, slot] of plan.slots.entries()) encodeEntry(mbrView, 6 + 16 * i, slot, 0);
  mbr[70] = 0x55;
  mbr[71] = 0xaa;
  writes.push({ offset: 440, data: mbr });

  const extendedStart = plan.extended?.start ?? 0;
  for (const ebr of plan.ebrs) {
    const sector = new Uint8Array(512);
    const view = new DataView(sector.buffer);
    encodeEntry(view, 446, ebr.data, ebr.sector);
    if (ebr.next) encodeEntry(view, 462, ebr.next, extendedStart);
    sector[510] = 0x55;
    sector[511] = 0xaa;
    writes.push({ offset: ebr.sector * plan.sectorSize, data: sector });
  }
  return writes;
}
