import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RecordingHost } from "./recording-host.js";

describe("RecordingHost", () => {
  it("records each command line and runs none of them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recording-host-"));
    try {
      const host = new RecordingHost();
      const result = await host.run(["touch", join(dir, "made")]);
      await host.run(["losetup", "-a"]);
      expect(host.calls).toEqual([
        ["touch", join(dir, "made")],
        ["losetup", "-a"],
      ]);
      expect(existsSync(join(dir, "made"))).toBe(false);
      expect(result).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers with what respond gives, synchronously or not", async () => {
    const host = new RecordingHost(async (argv) => (argv[0] === "blockdev" ? "512\n" : undefined));
    expect((await host.run(["blockdev", "--getss", "/dev/loop0"])).stdout).toBe("512\n");
    expect((await host.run(["true"])).stdout).toBe("");
  });
});
