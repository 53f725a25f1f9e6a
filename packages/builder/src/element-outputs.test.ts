import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { elementOutputs } from "./element-outputs.js";

const dir = mkdtempSync(join(tmpdir(), "dib-element-outputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("elementOutputs", () => {
  it("reports the kernel, initramfs and ISO elements wrote for this build, relative to cwd", () => {
    mkdirSync(join(dir, "out"));
    const started = Date.now();
    writeFileSync(join(dir, "out/rd.kernel"), "k");
    writeFileSync(join(dir, "out/rd.initramfs"), "rr");
    writeFileSync(join(dir, "out/rd.iso"), "iso");
    // Left by an earlier build: not this build's output.
    writeFileSync(join(dir, "out/rd.vmlinuz"), "old");
    utimesSync(join(dir, "out/rd.vmlinuz"), new Date(started - 60_000), new Date(started - 60_000));
    expect(elementOutputs({ cwd: dir, imageName: "out/rd" }, started)).toEqual([
      { type: "kernel", path: join(dir, "out/rd.kernel"), bytes: 1, checksums: {} },
      { type: "initramfs", path: join(dir, "out/rd.initramfs"), bytes: 2, checksums: {} },
      { type: "iso", path: join(dir, "out/rd.iso"), bytes: 3, checksums: {} },
    ]);
  });

  it("reports nothing when no element wrote anything", () => {
    expect(elementOutputs({ cwd: dir, imageName: "none" }, Date.now())).toEqual([]);
  });
});
