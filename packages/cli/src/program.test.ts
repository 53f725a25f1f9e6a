import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@dib/test";
import { describe, expect, it } from "vitest";

// Each case starts the real CLI (about 0.5 s alone, several seconds on a loaded machine).
describe("dib-cli errors for what a person types wrong", { timeout: 60_000 }, () => {
  it("suggests `doctor` for `dib-cli doctr` instead of building an element doctr", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "dib-doctr-"));
    try {
      const result = await runCli(["doctr"], { cwd: scratch });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(
        'error DIB_UNKNOWN_COMMAND: unknown command or element "doctr": did you mean `doctor`?',
      );
      // nothing was started: no build directory, no output image
      expect(result.stderr).not.toMatch(/resolv|element set|build dir/i);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("builds an element named doctr when there is one (no suggestion)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-doctr-element-"));
    try {
      mkdirSync(join(dir, "doctr"));
      const result = await runCli(["doctr", "--help"], { env: { ELEMENTS_PATH: dir } });
      expect(result.stderr).not.toContain("DIB_UNKNOWN_COMMAND");
      expect(result.stdout).toContain("Usage: dib-cli build");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["block-device", "create", "--bogus"],
    ["block-device", "layout", "--config", "x.yaml", "--bogus"],
    ["block-device", "init", "--buld-dir", "/tmp/x"],
  ])("reports an unknown option before a missing required one: %s %s", async (...args) => {
    const result = await runCli(args);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n")[0]).toMatch(/^error: unknown option '--(bogus|buld-dir)'/);
  });

  it("still reports a missing required option", async () => {
    const result = await runCli(["block-device", "create"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split("\n")[0]).toBe(
      "error: required option '--build-dir <dir>' not specified",
    );
  });

  it("reports a --config path that does not exist as a missing file", async () => {
    const result = await runCli([
      "block-device",
      "layout",
      "--config",
      "missing.yaml",
      "--image-size",
      "1GiB",
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^error DIB_BLOCK_DEVICE_CONFIG: the block-device config file \/\S*\/missing\.yaml does not exist/,
    );
  });
});
