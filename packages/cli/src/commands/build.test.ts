import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { BUILD_USAGE, registerBuildCommand, runBuildCommand } from "./build.js";

describe("registerBuildCommand", () => {
  it("hands everything after `build` to the build parser, help included", async () => {
    const program = new Command("dib-cli").exitOverride();
    registerBuildCommand(program);
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await program.parseAsync(["build", "debian-minimal", "-o", "x", "--image-s=2", "-h"], {
        from: "user",
      });
      expect(write).toHaveBeenCalledWith(BUILD_USAGE);
    } finally {
      write.mockRestore();
    }
  });
});

describe("runBuildCommand with image files", () => {
  it("prints each merged image as a build command with --dry-run, building nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-images-"));
    writeFileSync(
      join(dir, "images.yaml"),
      "- imagename: one\n  elements: [debian-minimal]\n  environment: {DIB_RELEASE: trixie}\n- packages: [vim]\n- imagename: two\n  elements: [fake-os]\n  skip-base: true\n",
    );
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const code = await runBuildCommand(["--dry-run", "images.yaml"], {
        env: { HOME: "/root" },
        cwd: dir,
        stdout: { write: () => true },
        isTTY: false,
      });
      expect(code).toBe(0);
    } finally {
      write.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(lines).toEqual([
      "DIB_RELEASE=trixie dib-cli build -o one -p vim -- debian-minimal\n",
      "dib-cli build -o two -n -- fake-os\n",
    ]);
  });
});

describe("runBuildCommand --json", () => {
  it("writes only JSON events to stdout, the failure included, and the error nowhere else", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-json-"));
    let out = "";
    const direct = vi.spyOn(process.stdout, "write");
    try {
      const run = runBuildCommand(["--json", "-t", "tar", "-o", "x", "no-such-element-here"], {
        env: { HOME: "/root", PATH: process.env.PATH, ELEMENTS_PATH: dir },
        cwd: dir,
        stdout: { write: (t: string) => (out += t) },
        stderr: { write: () => true },
        isTTY: false,
        handleSignals: false,
      });
      await expect(run).rejects.toMatchObject({ details: { step: "elements" } });
      expect(direct).not.toHaveBeenCalled();
    } finally {
      direct.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = out.split("\n");
    expect(lines.pop()).toBe("");
    const events = lines.map((line) => JSON.parse(line) as { type: string });
    expect(events[0]).toEqual({ type: "phase-start", phase: "elements", where: "builder" });
    expect(events.at(-1)).toMatchObject({ type: "build-failed", step: "elements" });
  });
});
