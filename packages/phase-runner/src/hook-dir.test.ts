import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IN_TARGET_DIR, phaseName, planPhase, readHookDir } from "./hook-dir.js";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "phase-runner-hookdir-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function put(path: string, mode = 0o755) {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), "#!/bin/bash\ntrue\n");
  chmodSync(join(dir, path), mode);
}

describe("readHookDir", () => {
  it("follows symlinks and notes executables, directories and dangling links", () => {
    put("hooks/install.d/10-run");
    put("hooks/install.d/20-data", 0o644);
    put("hooks/bin/helper");
    symlinkSync("../bin/helper", join(dir, "hooks/install.d/30-link"));
    symlinkSync("nowhere", join(dir, "hooks/install.d/40-dangling"));
    mkdirSync(join(dir, "hooks/install.d/50-sub"));
    const entries = readHookDir(join(dir, "hooks/install.d"));
    expect(entries?.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "10-run", kind: "file", symlink: false, executable: true },
      { name: "20-data", kind: "file", symlink: false, executable: false },
      { name: "30-link", kind: "file", symlink: true, executable: true },
      { name: "40-dangling", kind: "dangling", symlink: true, executable: false },
      { name: "50-sub", kind: "directory", symlink: false, executable: false },
    ]);
  });

  it("returns undefined for a missing directory", () => {
    expect(readHookDir(join(dir, "nope.d"))).toBeUndefined();
  });

  it("inside a root, resolves absolute symlinks within the root, not on the host", () => {
    put("root/usr/local/bin/in-image-tool");
    put("root/tmp/in_target.d/install.d/10-real");
    symlinkSync("/usr/local/bin/in-image-tool", join(dir, "root/tmp/in_target.d/install.d/20-abs"));
    symlinkSync("/bin/true-host-only-xyz", join(dir, "root/tmp/in_target.d/install.d/30-host"));
    const entries = readHookDir(`${IN_TARGET_DIR}/install.d`, { root: join(dir, "root") });
    const byName = Object.fromEntries((entries ?? []).map((e) => [e.name, e.kind]));
    expect(byName).toEqual({ "10-real": "file", "20-abs": "file", "30-host": "dangling" });
  });
});

describe("planPhase", () => {
  it("plans scripts and environment files of a phase, with what is skipped", () => {
    put("hooks/install.d/10-b");
    put("hooks/install.d/5-a");
    put("hooks/install.d/20-c.sh");
    put("hooks/environment.d/20-y.bash", 0o644);
    put("hooks/environment.d/100-x.bash", 0o644);
    const plan = planPhase({ phase: "install.d", hooksDir: join(dir, "hooks") });
    expect(plan).toMatchObject({
      phase: "install",
      dir: join(dir, "hooks/install.d"),
      exists: true,
      scripts: ["5-a", "10-b"],
      environmentFiles: ["100-x.bash", "20-y.bash"],
    });
    expect(plan.skipped.map((s) => s.name)).toEqual(["20-c.sh"]);
  });

  it("says a phase without a directory does not exist", () => {
    mkdirSync(join(dir, "hooks"));
    expect(planPhase({ phase: "finalise", hooksDir: join(dir, "hooks") })).toMatchObject({
      exists: false,
      scripts: [],
    });
  });
});

describe("phaseName", () => {
  it("accepts install and install.d, rejects paths", () => {
    expect(phaseName("install")).toBe("install");
    expect(phaseName("post-install.d")).toBe("post-install");
    expect(() => phaseName("../etc")).toThrow(expect.objectContaining({ code: "DIB_PHASE_NAME" }));
  });
});
