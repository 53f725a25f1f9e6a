import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DibError, Host, Ledger, safeRemove } from "@dib/host";
import { isRoot, rootOnlyReason } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildEvent, build } from "./index.js";

const fixtures = fileURLToPath(new URL("./__fixtures__/elements", import.meta.url));
const stockElements = fileURLToPath(new URL("../../../elements", import.meta.url));
const runBuildScript = fileURLToPath(new URL("./__fixtures__/run-build.mts", import.meta.url));

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", cwd, maxBuffer: 512 * 1024 * 1024 });
}

/** The marker files of a tree, in name order: `[file name, content]`. */
function markers(tree: string): [string, string][] {
  const dir = join(tree, "dib-markers");
  return readdirSync(dir)
    .filter((n) => /^\d\d-/.test(n))
    .sort()
    .map((n) => [n, readFileSync(join(dir, n), "utf8")]);
}

function variable(marker: string, name: string): string | undefined {
  return new RegExp(`^${name}=(.*)$`, "m").exec(marker)?.[1];
}

/**
 * Nothing mounted or attached below `dir` (other builds on a shared machine may come and
 * go meanwhile, so a host-wide before/after comparison would blame them on us).
 */
function expectNothingHeldBelow(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${dir}/`) || m === dir);
  const loops = sh("losetup", ["--list", "--noheadings", "-O", "BACK-FILE"])
    .split("\n")
    .map((l) => l.trim())
    .filter((f) => f.startsWith(`${dir}/`));
  expect({ mounts, loops }).toEqual({ mounts: [], loops: [] });
}

function debugfs(image: string, request: string): string {
  return sh("debugfs", ["-R", request, image]);
}

describe.runIf(isRoot)(
  `build() with a fake operating system${rootOnlyReason}`,
  { timeout: 600_000 },
  () => {
    let work: string;
    const host = new Host();

    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), "dib-builder-it-"));
    });

    afterAll(() => {
      expectNothingHeldBelow(work);
      rmSync(work, { recursive: true, force: true });
    });

    const common = (name: string) => ({
      elementsPath: [fixtures],
      skipBase: true,
      arch: "amd64",
      imageName: name,
      cwd: work,
      imageCache: join(work, "cache"),
      lockfilesDir: join(work, "locks"),
      tmpDir: join(work, "tmp"),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root", DIB_RELEASE: "fake1" },
    });

    it("builds a tar without a disk, running every phase in order, with DIB's variables", async () => {
      const events: BuildEvent[] = [];
      const result = await build(
        {
          ...common("tree-only"),
          elements: ["fake-os", "dib-test-markers"],
          imageTypes: ["tar"],
          installPackages: ["vim", "curl"],
          cliCommand: ["/bin/sh", "-c", 'echo "dib-cli $*"', "dib-cli"],
        },
        { host, handleSignals: false, onEvent: (e) => events.push(e) },
      );
      expect(result.plan.disk).toBe(false);
      expect(result.outputs).toEqual([
        expect.objectContaining({ type: "tar", path: join(work, "tree-only.tar") }),
      ]);
      const tree = join(work, "tree-only");
      mkdirSync(tree);
      sh("tar", ["-xf", join(work, "tree-only.tar"), "-C", tree]);

      const found = markers(tree);
      expect(found.map(([n]) => n)).toEqual([
        "01-root",
        "02-extra-data",
        "03-pre-install",
        "04-install",
        "05-post-install",
        "06-post-root",
        "08-pre-finalise",
        "09-finalise",
        "10-cleanup",
      ]);
      const byName = Object.fromEntries(found);
      const root = byName["01-root"] as string;
      const install = byName["04-install"] as string;
      expect(variable(root, "TARGET_ROOT")).toMatch(/\/dib_build\.[^/]+\/build\/mnt$/);
      expect(variable(install, "TARGET_ROOT")).toBeUndefined();
      expect(variable(byName["10-cleanup"] as string, "TARGET_ROOT")).toBeDefined();
      expect(variable(install, "IMAGE_ELEMENT")).toBe("dib-test-markers fake-os");
      expect(variable(install, "DIB_TEST_MARKER_ENV")).toBe("sourced");
      expect(variable(install, "DIB_RELEASE")).toBe("fake1");
      expect(variable(install, "ARCH")).toBe("amd64");
      expect(variable(install, "DIB_DEFAULT_INSTALLTYPE")).toBe("source");
      expect(readFileSync(join(tree, "dib-markers/dib-cli-output"), "utf8")).toBe(
        "dib-cli --version\n",
      );
      expect(readFileSync(join(tree, "installed-packages"), "utf8")).toBe("vim curl\n");

      // finalise_base: /tmp emptied, logs truncated, root's logs gone; the dotfile stays.
      expect(readdirSync(join(tree, "tmp"))).toEqual([]);
      expect(statSync(join(tree, "var/log/build.log")).size).toBe(0);
      expect(existsSync(join(tree, "root/session.log"))).toBe(false);
      expect(existsSync(join(tree, ".dib-dotfile"))).toBe(true);
      expect(existsSync(join(tree, "etc/resolv.conf"))).toBe(false);

      const phases = events.filter((e) => e.type === "phase-start").map((e) => e.phase);
      expect(phases).toEqual(result.plan.steps.map((s) => s.name));
      expect(result.timings.map((t) => t.phase)).toEqual(phases);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "script-start",
          phase: "install.d",
          element: "dib-test-markers",
        }),
      );
      expect(existsSync(result.buildDir)).toBe(false);
    });

    it("makes a disk with the fallback layout and copies the tree into it faithfully", async () => {
      const result = await build(
        {
          ...common("disk"),
          elements: ["fake-os", "dib-test-markers"],
          imageTypes: ["tar", "raw"],
          checksums: ["sha256"],
        },
        { host, handleSignals: false },
      );
      expect(result.plan.disk).toBe(true);
      expect(result.outputs.map((o) => o.type)).toEqual(["tar", "raw"]);
      const raw = join(work, "disk.raw");
      expect(result.imageSizeKiB).toBe(statSync(raw).size / 1024);
      expect(result.outputs[1]?.checksums.sha256).toMatch(/^[0-9a-f]{64}$/);

      const listing = sh("tar", ["--numeric-owner", "-tvf", join(work, "disk.tar")]);
      expect(listing).toMatch(/\.\/dib-markers\/07-block-device/);
      expect(listing).toMatch(/\.\/\.dib-dotfile/);

      const fstab = debugfs(raw, "cat /etc/fstab");
      expect(fstab).toMatch(/^LABEL=cloudimg-rootfs\s+\/\s+ext4\s+defaults\s+0\s+1$/m);
      const owned = debugfs(raw, "stat /etc/owned");
      expect(owned).toMatch(/Mode:\s+04750/);
      expect(owned).toMatch(/User:\s+1234\s+Group:\s+5678/);
      expect(debugfs(raw, "ea_list /etc/owned")).toMatch(/system\.posix_acl_access/);
      expect(debugfs(raw, "ea_list /etc/hardlink-a")).toMatch(/user\.dib-test.*kept/);
      expect(debugfs(raw, "stat /etc/hardlink-b")).toMatch(/Links:\s+2/);
      expect(debugfs(raw, "stat /var/sparse-file")).toMatch(/Blockcount:\s+0\b/);
      expect(debugfs(raw, "stat /.dib-dotfile")).toMatch(/Type:\s+regular/);
      expect(debugfs(raw, "ls /")).not.toMatch(/dib-markers\/|\bbuilt\b/);
    });

    it("makes a partitioned disk from an element's layout and tells hooks about it", async () => {
      const result = await build(
        {
          ...common("mbr"),
          elementsPath: [fixtures, stockElements],
          elements: ["fake-os", "dib-test-markers", "block-device-mbr"],
          imageTypes: ["tar", "qcow2", "raw"],
          compress: false,
        },
        { host, handleSignals: false },
      );
      expect(result.outputs.map((o) => o.type)).toEqual(["tar", "qcow2", "raw"]);
      const info = JSON.parse(
        sh("qemu-img", ["info", "--output=json", join(work, "mbr.qcow2")]),
      ) as {
        format: string;
        "virtual-size": number;
      };
      expect(info).toMatchObject({
        format: "qcow2",
        "virtual-size": statSync(join(work, "mbr.raw")).size,
      });
      const table = JSON.parse(sh("sfdisk", ["--json", join(work, "mbr.raw")])) as {
        partitiontable: { label: string; partitions: { bootable?: boolean }[] };
      };
      expect(table.partitiontable.label).toBe("dos");
      expect(table.partitiontable.partitions).toHaveLength(1);
      expect(table.partitiontable.partitions[0]?.bootable).toBe(true);
      const tar = join(work, "mbr.tar");
      expect(sh("tar", ["-xOf", tar, "./etc/fstab"])).toMatch(
        /^LABEL=cloudimg-rootfs\s+\/\s+ext4/m,
      );
      const blockDeviceMarker = sh("tar", ["-xOf", tar, "./dib-markers/07-block-device"]);
      expect(Number(variable(blockDeviceMarker, "DIB_IMAGE_SIZE"))).toBe(result.imageSizeKiB);
      const finalise = sh("tar", ["-xOf", tar, "./dib-markers/09-finalise"]);
      expect(variable(finalise, "IMAGE_BLOCK_DEVICE")).toMatch(/^\/dev\/loop\d+$/);
      expect(variable(finalise, "DIB_ROOT_LABEL")).toBe("cloudimg-rootfs");
      expect(variable(finalise, "DIB_ROOT_FSTYPE")).toBe("ext4");
      expect(variable(finalise, "DIB_BLOCK_DEVICE")).toBe("mbr");
      expectNothingHeldBelow(work);
    });

    it("stops at a failing chroot script, naming element and script, and leaves nothing attached", async () => {
      const events: BuildEvent[] = [];
      const error = await build(
        { ...common("fails"), elements: ["fake-os", "dib-test-fail"], imageTypes: ["raw"] },
        { host, handleSignals: false, onEvent: (e) => events.push(e) },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DibError);
      const e = error as DibError;
      expect(e.code).toBe("DIB_PHASE_SCRIPT_FAILED");
      expect(e.message).toBe(
        "finalise.d/60-dib-test-fail (element dib-test-fail) failed with exit code 3",
      );
      expect(e.details).toMatchObject({
        step: "finalise.d",
        script: "60-dib-test-fail",
        element: "dib-test-fail",
      });
      expect(events).toContainEqual(
        expect.objectContaining({ type: "log", line: "about to fail" }),
      );
      expect(existsSync(e.details.buildDir as string)).toBe(false);
      expect(existsSync(join(work, "fails.raw"))).toBe(false);
      expectNothingHeldBelow(work);
    });

    it("keeps the build directory on failure when asked, until its ledger is undone", async () => {
      const error = (await build(
        {
          ...common("kept"),
          elements: ["fake-os", "dib-test-fail"],
          imageTypes: ["raw"],
          keepOnFailure: true,
        },
        { host, handleSignals: false },
      ).catch((e: unknown) => e)) as DibError;
      const kept = error.details.keptBuildDir as string;
      expect(existsSync(join(kept, "build/built")) || existsSync(join(kept, "build/mnt"))).toBe(
        true,
      );
      expect(sh("losetup", ["--list", "--noheadings", "-O", "BACK-FILE"])).not.toContain(kept);
      const ledger = Ledger.open(kept, host);
      await ledger.undo();
      safeRemove(kept);
      expectNothingHeldBelow(work);
    });

    it("releases everything and exits 130 when interrupted in a chroot phase", async () => {
      const options = {
        ...common("interrupted"),
        elements: ["fake-os", "dib-test-slow"],
        imageTypes: ["tar"],
      };
      const child = spawn(
        process.execPath,
        [
          "--conditions=@dib/source",
          "--import",
          import.meta.resolve("tsx"),
          runBuildScript,
          JSON.stringify(options),
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let buildDir: string | undefined;
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => resolve(code)),
      );
      await new Promise<void>((resolve, reject) => {
        let buffered = "";
        child.stdout.on("data", (chunk: Buffer) => {
          buffered += chunk.toString();
          for (const line of buffered.split("\n").slice(0, -1)) {
            const event = JSON.parse(line) as { type: string; line?: string; script?: string };
            const dir = /^Build directory: (\S+)/.exec(event.line ?? "")?.[1];
            if (dir) buildDir = dir;
            if (event.type === "script-start" && event.script === "60-dib-test-slow") resolve();
          }
          buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
        });
        void exited.then(() => reject(new Error("the build ended before it could be interrupted")));
      });
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(buildDir).toBeDefined();
      expectNothingHeldBelow(buildDir as string);
      expect(existsSync(buildDir as string)).toBe(false);
      expectNothingHeldBelow(work);
    });
  },
);
