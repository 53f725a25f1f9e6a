import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { architecture } from "@dib/elements";
import {
  BINFMT_DIR,
  binfmtMounted,
  foreignArchSupport,
  Host,
  Ledger,
  readBinfmtEntries,
} from "@dib/host";
import { isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildBinfmtDefinition, foreignArchStep } from "./foreign-arch-step.js";

/**
 * The smallest aarch64 Linux program: a static ELF whose code is `exit(42)`. Built here
 * byte by byte, so the test needs no arm64 toolchain or download to prove that an arm64
 * program really runs.
 */
function aarch64Exit42(): Buffer {
  const code = Buffer.alloc(12);
  code.writeUInt32LE(0xd2800540, 0); // mov x0, #42
  code.writeUInt32LE(0xd2800ba8, 4); // mov x8, #93 (exit)
  code.writeUInt32LE(0xd4000001, 8); // svc #0
  const base = 0x400000n;
  const size = 64 + 56 + code.length;
  const elf = Buffer.alloc(size);
  elf.write("\x7fELF", 0, "latin1");
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little-endian
  elf[6] = 1; // ELF version
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0xb7, 18); // EM_AARCH64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(base + 120n, 24); // entry: the code after the headers
  elf.writeBigUInt64LE(64n, 32); // program headers right after this header
  elf.writeUInt16LE(64, 52);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(1, 56);
  const ph = 64;
  elf.writeUInt32LE(1, ph); // PT_LOAD
  elf.writeUInt32LE(5, ph + 4); // R+X
  elf.writeBigUInt64LE(0n, ph + 8);
  elf.writeBigUInt64LE(base, ph + 16);
  elf.writeBigUInt64LE(base, ph + 24);
  elf.writeBigUInt64LE(BigInt(size), ph + 32);
  elf.writeBigUInt64LE(BigInt(size), ph + 40);
  elf.writeBigUInt64LE(0x1000n, ph + 48);
  code.copy(elf, 120);
  return elf;
}

const qemu = architecture("arm64").qemu;
const support = foreignArchSupport(qemu);
const missing = !support.definition || !support.interpreterPresent;
const reason = !isRoot
  ? rootOnlyReason
  : missing
    ? " (skipped: qemu-user-static is not installed)"
    : process.arch !== "x64"
      ? " (skipped: needs an amd64 host)"
      : "";

function dibEntries(): string[] {
  return readBinfmtEntries()
    .map((e) => e.name)
    .filter((n) => n.startsWith("dib-"));
}

describe.runIf(reason === "")(`foreign architectures through binfmt_misc${reason}`, () => {
  const host = new Host({ log: () => {} });
  let dir: string;
  let program: string;
  let mountedBefore: boolean;
  let entriesBefore: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dib-foreign-arch-"));
    program = join(dir, "exit42");
    writeFileSync(program, aarch64Exit42());
    chmodSync(program, 0o755);
    mountedBefore = binfmtMounted();
    entriesBefore = dibEntries();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs arm64 programs during the build, and leaves binfmt_misc as it found it", async () => {
    const ledger = Ledger.open(dir, host);
    const result = await foreignArchStep(ledger, "amd64", "arm64");
    const run = spawnSync(program);
    expect(run.status, String(run.error ?? run.stderr)).toBe(42);
    if (result.registered) {
      expect(ledger.held().map((e) => e.resource)).toContainEqual({
        kind: "binfmt",
        name: result.entry,
      });
      expect(dibEntries()).toContain(result.entry);
    } else {
      // The host's own entry runs them: nothing of the build's to remove.
      expect(ledger.held().some((e) => e.resource.kind === "binfmt")).toBe(false);
    }
    await ledger.undo();
    expect(dibEntries()).toEqual(entriesBefore);
    expect(binfmtMounted()).toBe(mountedBefore);
  });

  it("registers its own entry when the host has none that serves chroots, and cleanup removes it", async () => {
    // The case of a fresh CI host: no entry serves arm64 yet. Where the host has its own
    // (or another build's is there), the step registers nothing: the first test covers that.
    if (foreignArchSupport(qemu).serving) return;
    const ledger = Ledger.open(dir, host);
    const result = await foreignArchStep(ledger, "amd64", "arm64");
    expect(result.registered).toBe(true);
    expect(result.entry).toBe(`dib-qemu-${qemu}-${process.pid}`);
    const entry = readBinfmtEntries().find((e) => e.name === result.entry);
    expect(entry?.flags).toContain("F");
    // As after a kill -9: a second ledger over the same directory (what `dib-cli cleanup`
    // opens) removes the entry and the binfmt_misc mount the build made.
    const cleanup = Ledger.open(dir, host);
    await cleanup.undo();
    expect(readBinfmtEntries().some((e) => e.name === result.entry)).toBe(false);
    expect(binfmtMounted()).toBe(mountedBefore);
    const after = spawnSync(program);
    if (!foreignArchSupport(qemu).serving) expect(after.status).not.toBe(42);
  });

  it("keeps the host's flags and adds F to the entry it registers", () => {
    const def = support.definition;
    if (!def) throw new Error("no definition");
    const mine = buildBinfmtDefinition({ ...def, flags: "OP" }, "7");
    expect(mine).toMatchObject({ name: `dib-${def.name}-7`, flags: "OPF" });
    expect(buildBinfmtDefinition(def, "7").flags).toBe(
      def.flags.includes("F") ? def.flags : `${def.flags}F`,
    );
    // Nothing was registered by the unit part: the host state is untouched.
    expect(execFileSync("ls", [BINFMT_DIR]).toString()).not.toContain("dib-qemu-aarch64-7");
  });
});
