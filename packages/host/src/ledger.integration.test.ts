import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDibError } from "@dib/errors";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason, runCli } from "@dib/test";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeExt4Image } from "./__fixtures__/make-image.js";
import { Host } from "./host.js";
import { Ledger, loopDevicesOf } from "./ledger.js";
import { mountsBelow } from "./mountinfo.js";
import { safeRemove } from "./safe-remove.js";

const host = new Host();

async function holdResources(ledger: Ledger, dir: string) {
  const image = await makeExt4Image(host, dir);
  const loop = await ledger.attachLoop(image);
  mkdirSync(join(dir, "mnt"), { recursive: true });
  await ledger.mount({ source: loop.detail.device, target: join(dir, "mnt") });
  mkdirSync(join(dir, "mnt", "proc"), { recursive: true });
  await ledger.mount({
    source: "/proc",
    target: join(dir, "mnt", "proc"),
    bind: true,
    readOnly: true,
  });
  return { image, device: loop.detail.device };
}

describe.runIf(isRoot)(`the ledger against the real kernel${rootOnlyReason}`, () => {
  let before: ReturnType<typeof hostSnapshot>;
  let dir: string;

  beforeEach(() => {
    before = hostSnapshot();
    dir = mkdtempSync(join(tmpdir(), "dib-ledger-"));
  });

  afterEach(async () => {
    // Whatever a test left, undo it so one failure does not leak into the next test…
    await Ledger.open(dir, host)
      .undo()
      .catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    // …but the test itself still fails on a leak through its own expectHostClean.
  });

  it("undo() releases a loop device, a mount on it and a bind mount, leaving nothing", async () => {
    const ledger = Ledger.open(dir, host);
    const { image, device } = await holdResources(ledger, dir);
    expect(loopDevicesOf(image)).toEqual([device]);
    expect(mountsBelow(dir)).toHaveLength(2);
    const report = await ledger.undo();
    expect(report.released).toHaveLength(3);
    expect(loopDevicesOf(image)).toEqual([]);
    expect(mountsBelow(dir)).toEqual([]);
    expectHostClean(before, [dir]);
    // idempotent
    expect((await Ledger.open(dir, host).undo()).released).toEqual([]);
  });

  async function startHolder(...flags: string[]) {
    const fixture = fileURLToPath(new URL("./__fixtures__/hold-resources.ts", import.meta.url));
    const child = execa(
      process.execPath,
      ["--conditions=@dib/source", "--import", "tsx", fixture, dir, ...flags],
      {
        reject: false,
        cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      child.on("exit", () => reject(new Error("fixture exited before it was ready")));
    });
    // Wrapped: returning the subprocess itself (a thenable) would wait for it to exit.
    return { child };
  }

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`a ${signal} undoes the ledger and exits ${code}`, async () => {
      const { child } = await startHolder("--handle-signals");
      expect(mountsBelow(dir)).toHaveLength(2);
      process.kill(child.pid as number, signal);
      const result = await child;
      expect(result.exitCode).toBe(code);
      expect(mountsBelow(dir)).toEqual([]);
      expectHostClean(before, [dir]);
    });
  }

  it("dib-cli cleanup releases what a SIGKILLed process held", async () => {
    const { child } = await startHolder();
    expect(mountsBelow(dir)).toHaveLength(2);
    child.kill("SIGKILL");
    await child;
    const cleanup = await runCli(["cleanup", dir]);
    expect(cleanup.stderr).toBe("");
    expect(cleanup.exitCode).toBe(0);
    expect(cleanup.stdout).toContain("released loop device on");
    expect(mountsBelow(dir)).toEqual([]);
    expectHostClean(before, [dir]);
  });

  it("two builds at once each undo only their own resources", async () => {
    const other = mkdtempSync(join(tmpdir(), "dib-ledger-other-"));
    try {
      const a = Ledger.open(dir, host);
      const b = Ledger.open(other, host);
      const heldA = await holdResources(a, dir);
      const heldB = await holdResources(b, other);
      await a.undo();
      expect(loopDevicesOf(heldA.image)).toEqual([]);
      expect(mountsBelow(dir)).toEqual([]);
      expect(loopDevicesOf(heldB.image)).toEqual([heldB.device]);
      expect(mountsBelow(other)).toHaveLength(2);
      await b.undo();
      expectHostClean(before, [dir]);
    } finally {
      await Ledger.open(other, host)
        .undo()
        .catch(() => {});
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("undo() cleans up a half-created resource and mounts a hook made below a guarded tree", async () => {
    const ledger = Ledger.open(dir, host);
    mkdirSync(join(dir, "tree", "a"), { recursive: true });
    await ledger.acquire({ kind: "mount", target: join(dir, "tree") }, async () => ({}));
    // a mount no ledger call made (an element hook's own bind mount)
    await host.run(["mount", "-t", "tmpfs", "tmpfs", join(dir, "tree", "a")]);
    // a loop device whose creation "crashed" before its ready record
    const image = await makeExt4Image(host, dir, "half.raw");
    await ledger
      .acquire({ kind: "loop", file: image }, async () => {
        await host.run(["losetup", "--find", image]);
        throw new Error("crashed after losetup");
      })
      .catch(() => {});
    expect(loopDevicesOf(image)).toHaveLength(1);
    await ledger.undo();
    expect(loopDevicesOf(image)).toEqual([]);
    expect(mountsBelow(dir)).toEqual([]);
    expectHostClean(before, [dir]);
  });

  it("safeRemove refuses a tree with a mount below it and deletes nothing", async () => {
    const ledger = Ledger.open(dir, host);
    await holdResources(ledger, dir);
    const filesBefore = readdirSync(dir).sort();
    let caught: unknown;
    try {
      safeRemove(dir);
    } catch (error) {
      caught = error;
    }
    expect(isDibError(caught, "DIB_MOUNTED_BELOW")).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(filesBefore);
    expect(existsSync(join(dir, "mnt", "proc", "self"))).toBe(true);
    await ledger.undo();
    safeRemove(dir, { within: dir });
    expect(existsSync(dir)).toBe(false);
    expectHostClean(before, [dir]);
  });

  it("safeRemove refuses a path outside the build directory", () => {
    const outside = mkdtempSync(join(tmpdir(), "dib-outside-"));
    try {
      expect(() => safeRemove(outside, { within: dir })).toThrow(/outside/);
      expect(existsSync(outside)).toBe(true);
    } finally {
      rmSync(outside, { recursive: true });
    }
  });
});
