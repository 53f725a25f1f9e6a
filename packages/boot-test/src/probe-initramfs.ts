/**
 * The initramfs of the KVM probe guest: an /init that prints PROBE_MARKER on the console from
 * userspace and powers the guest off, and /dev/console for it to print on. It is made from
 * bytes here, not from host packages: no download, no root (no mknod) and no cpio tool, so
 * the probe works on any host that has a kernel to boot.
 */

/** What the probe's /init prints: seen on the console only once Linux ran a userspace program. */
export const PROBE_MARKER = "DIB-KVM-PROBE: userspace reached";

/**
 * A static x86-64 ELF executable, the whole of the probe's /init:
 *
 *     mov eax, 1            ; write(1, marker, len)
 *     mov edi, 1
 *     lea rsi, [rip+marker]
 *     mov edx, len
 *     syscall
 *     mov eax, 169          ; reboot(MAGIC1, MAGIC2, LINUX_REBOOT_CMD_POWER_OFF)
 *     mov edi, 0xfee1dead
 *     mov esi, 0x28121969
 *     mov edx, 0x4321fedc
 *     syscall
 *     jmp $                 ; not reached; were it, the kernel would panic on init's exit
 *   marker: PROBE_MARKER "\n"
 *
 * One PT_LOAD segment maps the whole file at 0x400000; the code starts right after the
 * ELF header (64 bytes) and the program header (56 bytes).
 */
export function probeInit(): Buffer {
  const message = Buffer.from(`\n${PROBE_MARKER}\n`);
  const base = 0x400000;
  const codeOffset = 64 + 56;
  // biome-ignore format: one instruction a line
  const code = Buffer.from([
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
    0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1
    0x48, 0x8d, 0x35, 0x1f, 0x00, 0x00, 0x00, // lea rsi, [rip+31]: the marker after the code
    0xba, message.length, 0x00, 0x00, 0x00, // mov edx, len
    0x0f, 0x05, // syscall
    0xb8, 0xa9, 0x00, 0x00, 0x00, // mov eax, 169
    0xbf, 0xad, 0xde, 0xe1, 0xfe, // mov edi, 0xfee1dead
    0xbe, 0x69, 0x19, 0x12, 0x28, // mov esi, 0x28121969
    0xba, 0xdc, 0xfe, 0x21, 0x43, // mov edx, 0x4321fedc
    0x0f, 0x05, // syscall
    0xeb, 0xfe, // jmp $
  ]);
  const size = codeOffset + code.length + message.length;
  const elf = Buffer.alloc(size);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(elf, 0); // ELF64, little-endian, SysV
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0x3e, 18); // x86-64
  elf.writeUInt32LE(1, 20); // EV_CURRENT
  elf.writeBigUInt64LE(BigInt(base + codeOffset), 24); // entry
  elf.writeBigUInt64LE(64n, 32); // program headers right after this header
  elf.writeUInt16LE(64, 52); // header size
  elf.writeUInt16LE(56, 54); // program header size
  elf.writeUInt16LE(1, 56); // one program header
  elf.writeUInt16LE(64, 58); // section header size (there are none)
  elf.writeUInt32LE(1, 64); // PT_LOAD
  elf.writeUInt32LE(5, 68); // R + X
  elf.writeBigUInt64LE(0n, 72); // from file offset 0
  elf.writeBigUInt64LE(BigInt(base), 80); // vaddr
  elf.writeBigUInt64LE(BigInt(base), 88); // paddr
  elf.writeBigUInt64LE(BigInt(size), 96); // file size
  elf.writeBigUInt64LE(BigInt(size), 104); // memory size
  elf.writeBigUInt64LE(0x1000n, 112); // alignment
  code.copy(elf, codeOffset);
  message.copy(elf, codeOffset + code.length);
  return elf;
}

/** One member of a cpio archive: a directory, a regular file or a character device. */
export type CpioEntry =
  | { name: string; kind: "dir"; mode: number }
  | { name: string; kind: "file"; mode: number; data: Buffer }
  | { name: string; kind: "char"; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

/** A `newc` cpio archive (the format the kernel unpacks an initramfs from), owned by root. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (buffer: Buffer) => {
    parts.push(buffer);
    offset += buffer.length;
  };
  const pad = () => push(Buffer.alloc((4 - (offset % 4)) % 4));
  const member = (
    name: string,
    mode: number,
    data: Buffer,
    rdev: [number, number],
    ino: number,
  ) => {
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], name.length + 1, 0];
    push(Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`));
    push(Buffer.from(`${name}\0`));
    pad();
    push(data);
    pad();
  };
  entries.forEach((entry, i) => {
    const type = entry.kind === "dir" ? S_IFDIR : entry.kind === "file" ? S_IFREG : S_IFCHR;
    const data = entry.kind === "file" ? entry.data : Buffer.alloc(0);
    const rdev: [number, number] = entry.kind === "char" ? [entry.major, entry.minor] : [0, 0];
    member(entry.name, type | entry.mode, data, rdev, i + 1);
  });
  member("TRAILER!!!", 0, Buffer.alloc(0), [0, 0], 0);
  return Buffer.concat(parts);
}

/** The probe guest's whole initramfs. */
export function probeInitramfs(): Buffer {
  return cpioNewc([
    { name: "dev", kind: "dir", mode: 0o755 },
    { name: "dev/console", kind: "char", mode: 0o600, major: 5, minor: 1 },
    { name: "init", kind: "file", mode: 0o755, data: probeInit() },
  ]);
}
