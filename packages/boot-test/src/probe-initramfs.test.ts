import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cpioNewc, PROBE_MARKER, probeInit, probeInitramfs } from "./probe-initramfs.js";

const hasCpio = spawnSync("cpio", ["--version"]).status === 0;

describe("the probe initramfs", () => {
  it.runIf(hasCpio)(
    "is a newc archive cpio reads: /dev, the console device and an executable /init",
    () => {
      const listing = spawnSync("cpio", ["-itv", "--quiet"], { input: probeInitramfs() });
      expect(listing.status).toBe(0);
      const lines = listing.stdout.toString().trim().split("\n");
      expect(lines.map((l) => l.split(/\s+/).at(-1))).toEqual(["dev", "dev/console", "init"]);
      expect(lines[0]).toMatch(/^drwxr-xr-x\s+1 root\s+root/);
      expect(lines[1]).toMatch(/^crw-------\s+1 root\s+root\s+5,\s+1/);
      expect(lines[2]).toMatch(/^-rwxr-xr-x\s+1 root\s+root\s+\d+/);
    },
  );

  it.runIf(hasCpio)("keeps file contents byte for byte", () => {
    const data = Buffer.from("odd length!");
    const archive = cpioNewc([
      { name: "a/b", kind: "file", mode: 0o644, data },
      { name: "c", kind: "dir", mode: 0o700 },
    ]);
    expect(archive.length % 4).toBe(0);
    const out = spawnSync("cpio", ["-i", "--quiet", "--to-stdout", "a/b"], { input: archive });
    expect(out.stdout.toString()).toBe("odd length!");
  });

  it("/init is a static x86-64 executable whose only output is the marker", () => {
    const elf = probeInit();
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(elf[4]).toBe(2); // 64-bit
    expect(elf.readUInt16LE(16)).toBe(2); // executable, not a shared object needing ld.so
    expect(elf.readUInt16LE(18)).toBe(0x3e); // x86-64
    expect(elf.readUInt16LE(56)).toBe(1); // one segment: no PT_INTERP
    expect(elf.readUInt32LE(64)).toBe(1); // PT_LOAD
    expect(Number(elf.readBigUInt64LE(96))).toBe(elf.length);
    // The write's buffer (lea rsi, [rip+disp]) is the marker at the end of the file.
    const entry = Number(elf.readBigUInt64LE(24)) - 0x400000;
    const lea = entry + 10;
    expect([...elf.subarray(lea, lea + 3)]).toEqual([0x48, 0x8d, 0x35]);
    const target = lea + 7 + elf.readInt32LE(lea + 3);
    const length = elf.readUInt32LE(lea + 8);
    expect(elf.subarray(target, target + length).toString()).toBe(`\n${PROBE_MARKER}\n`);
    expect(target + length).toBe(elf.length);
  });
});
