import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readConfigSource } from "./config-source.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "dib-config-source-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("readConfigSource", () => {
  it("takes anything that is not file:// as YAML text", () => {
    expect(readConfigSource("- local_loop: {name: image0}").value).toEqual([
      { local_loop: { name: "image0" } },
    ]);
  });

  it("reads file://PATH and a plain path", () => {
    const file = join(dir, "disk.yaml");
    writeFileSync(file, "- local_loop:\n    name: image0\n");
    expect(readConfigSource(`file://${file}`)).toMatchObject({ file, text: expect.any(String) });
    expect(readConfigSource(file).file).toBe(file);
  });

  it("reports a file that does not exist as a missing file, given either way", () => {
    const missing = join(dir, "missing.yaml");
    for (const given of [`file://${missing}`, missing]) {
      expect(() => readConfigSource(given)).toThrow(
        expect.objectContaining({
          code: "DIB_BLOCK_DEVICE_CONFIG",
          message: `the block-device config file ${missing} does not exist`,
          file: missing,
        }),
      );
    }
    expect(() => readConfigSource("missing.yaml")).toThrow(
      `the block-device config file ${resolve("missing.yaml")} does not exist`,
    );
  });
});
