import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, isDibError, LEDGER_FILE, Ledger } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProgram } from "../program.js";

describe("dib-cli internal ledger-hold / ledger-release", () => {
  const host = new Host();
  let dir: string;
  const saved = process.env.DIB_LEDGER_DIR;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dib-ledger-hold-"));
    // The build made its ledger before any hook runs.
    writeFileSync(join(dir, LEDGER_FILE), "");
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.DIB_LEDGER_DIR;
    else process.env.DIB_LEDGER_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(...args: string[]) {
    await createProgram().parseAsync(["internal", ...args], { from: "user" });
  }

  it("records a container in the ledger of $DIB_LEDGER_DIR, and release drops it", async () => {
    process.env.DIB_LEDGER_DIR = dir;
    await cli("ledger-hold", "--runtime", "podman", "image", "localhost/dib-tmp-work-image-1");
    await cli("ledger-hold", "--runtime", "podman", "container", "dib-tmp-work-container-1");
    const ledger = Ledger.open(dir, host);
    expect(ledger.held().map((e) => e.resource)).toEqual([
      {
        kind: "runtime-object",
        runtime: "podman",
        object: "image",
        name: "localhost/dib-tmp-work-image-1",
      },
      {
        kind: "runtime-object",
        runtime: "podman",
        object: "container",
        name: "dib-tmp-work-container-1",
      },
    ]);
    await cli("ledger-release", "--runtime", "podman", "container", "dib-tmp-work-container-1");
    expect(ledger.held().map((e) => e.resource)).toEqual([
      expect.objectContaining({ object: "image" }),
    ]);
    // Releasing what is not held (again) is nothing to do.
    await cli("ledger-release", "--runtime", "podman", "container", "dib-tmp-work-container-1");
    await cli("ledger-release", "--runtime", "podman", "image", "localhost/dib-tmp-work-image-1");
    expect(ledger.held()).toEqual([]);
    ledger.close();
  });

  it("takes --ledger-dir over the environment", async () => {
    process.env.DIB_LEDGER_DIR = join(dir, "elsewhere");
    await cli("ledger-hold", "--ledger-dir", dir, "--runtime", "buildah", "image", "localhost/x");
    const ledger = Ledger.open(dir, host);
    expect(ledger.held()).toHaveLength(1);
    ledger.close();
  });

  it("refuses without a ledger, an unknown runtime or object kind, and records nothing", async () => {
    delete process.env.DIB_LEDGER_DIR;
    const noLedger = await cli("ledger-hold", "--runtime", "podman", "container", "c").catch(
      (e: unknown) => e,
    );
    expect(isDibError(noLedger, "DIB_NO_LEDGER")).toBe(true);
    process.env.DIB_LEDGER_DIR = join(dir, "not-a-build");
    const notBuild = await cli("ledger-hold", "--runtime", "podman", "container", "c").catch(
      (e: unknown) => e,
    );
    expect(isDibError(notBuild, "DIB_NO_LEDGER")).toBe(true);
    process.env.DIB_LEDGER_DIR = dir;
    const runtime = await cli("ledger-hold", "--runtime", "lxc", "container", "c").catch(
      (e: unknown) => e,
    );
    expect(isDibError(runtime, "DIB_BAD_RUNTIME")).toBe(true);
    const kind = await cli("ledger-hold", "--runtime", "podman", "volume", "v").catch(
      (e: unknown) => e,
    );
    expect(isDibError(kind, "DIB_BAD_RUNTIME_OBJECT")).toBe(true);
    expect(Ledger.open(dir, host).entries()).toEqual([]);
  });
});
