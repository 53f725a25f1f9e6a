import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Host } from "./host.js";
import { Ledger } from "./ledger.js";
import { describeResource, isNoSuchRuntimeObject, runtimeObjectRemoveArgv } from "./ledger-file.js";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const root = process.getuid?.() === 0;
const podman = root && has("podman");

describe("runtime-object ledger entries", () => {
  it("are removed with the runtime's own rm -f / rmi -f (buildah rm has no -f)", () => {
    const argv = (runtime: "podman" | "buildah" | "docker", object: "container" | "image") =>
      runtimeObjectRemoveArgv({ kind: "runtime-object", runtime, object, name: "n" });
    expect(argv("podman", "container")).toEqual(["podman", "rm", "-f", "n"]);
    expect(argv("podman", "image")).toEqual(["podman", "rmi", "-f", "n"]);
    expect(argv("docker", "container")).toEqual(["docker", "rm", "-f", "n"]);
    expect(argv("docker", "image")).toEqual(["docker", "rmi", "-f", "n"]);
    expect(argv("buildah", "container")).toEqual(["buildah", "rm", "n"]);
    expect(argv("buildah", "image")).toEqual(["buildah", "rmi", "-f", "n"]);
    expect(
      describeResource({ kind: "runtime-object", runtime: "podman", object: "image", name: "t" }),
    ).toBe("podman image t");
  });

  it("tell an object that is not there from a removal that really failed", () => {
    for (const gone of [
      'Error: removing container "x": container not known',
      "Error: 1 error occurred:\n\t* localhost/x: image not known",
      'Error: no container with name or ID "x" found: no such container',
      "Error response from daemon: No such container: x",
      "Error response from daemon: No such image: localhost/x:latest",
    ]) {
      expect(isNoSuchRuntimeObject(gone), gone).toBe(true);
    }
    expect(
      isNoSuchRuntimeObject("Error: image is in use by a container: consider listing external"),
    ).toBe(false);
    expect(isNoSuchRuntimeObject("Error: permission denied")).toBe(false);
  });

  describe("with the real runtimes", () => {
    let dir: string;
    const host = new Host();
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "dib-ledger-runtime-"));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it.runIf(podman)(
      "undo removes a held container and image, newest first, and forget drops a record",
      async () => {
        const tag = `localhost/dib-ledger-test-${process.pid}`;
        const name = `dib-ledger-test-${process.pid}`;
        mkdirSync(join(dir, "tree"));
        writeFileSync(join(dir, "tree", "f"), "x\n");
        spawnSync("tar", ["-cf", join(dir, "t.tar"), "-C", join(dir, "tree"), "f"]);
        const ledger = Ledger.open(join(dir, "build"), host);
        await ledger.holdRuntimeObject("podman", "image", tag);
        await host.run(["podman", "import", "--quiet", join(dir, "t.tar"), tag]);
        await ledger.holdRuntimeObject("podman", "container", name);
        await host.run(["podman", "create", "--name", name, tag, "/bin/sh"]);
        // A record of something the hook removed itself is only forgotten.
        await ledger.holdRuntimeObject("podman", "container", `${name}-other`);
        expect(ledger.forgetRuntimeObject("podman", "container", `${name}-other`)).toBe(1);
        expect(ledger.forgetRuntimeObject("podman", "container", `${name}-other`)).toBe(0);

        const report = await ledger.undo();
        expect(report.released).toEqual([`podman container ${name}`, `podman image ${tag}`]);
        const exists = (args: string[]) => spawnSync("podman", args).status === 0;
        expect(exists(["container", "exists", name])).toBe(false);
        expect(exists(["image", "exists", tag])).toBe(false);
      },
    );

    it.runIf(root && (has("podman") || has("buildah")))(
      "undo tolerates objects that are not there, and runtimes that are not installed",
      async () => {
        const ledger = Ledger.open(join(dir, "build"), host);
        const runtimes = (["podman", "buildah"] as const).filter(has);
        for (const runtime of runtimes) {
          await ledger.holdRuntimeObject(runtime, "image", "localhost/dib-ledger-never-made");
          await ledger.holdRuntimeObject(runtime, "container", "dib-ledger-never-made");
        }
        if (!has("docker")) await ledger.holdRuntimeObject("docker", "container", "never-made");
        const report = await ledger.undo();
        expect(report.failed).toEqual([]);
        expect(ledger.held()).toEqual([]);
      },
    );
  });

  it("records from another writer never share a sequence number with this one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-ledger-seq-"));
    try {
      const host = new Host();
      const builder = Ledger.open(dir, host);
      await builder.chroot(dir);
      // A hook's `dib-cli internal ledger-hold` opens the same ledger in its own process.
      const hook = Ledger.open(dir, host);
      const held = await hook.holdRuntimeObject("podman", "image", "localhost/x");
      hook.close();
      const next = await builder.chroot(join(dir, "sub"));
      expect(next.seq).toBeGreaterThan(held.seq);
      expect(builder.entries().map((e) => e.seq)).toEqual([1, 2, 3]);
      builder.forgetRuntimeObject("podman", "image", "localhost/x");
      await builder.undo();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
