import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, LEDGER_FILE, Ledger, mountsBelow, readMountinfo } from "@dib/host";
import {
  cliEntry,
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
} from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanupBuildDir } from "./cleanup.js";

/**
 * `dib-cli internal mount` for real, run as a hook runs it: its own process (the CLI from
 * source), the build's ledger named by DIB_LEDGER_DIR. What it mounts must be in the ledger
 * before it exists, so that the build's undo, or `dib-cli cleanup` after the build was
 * killed, releases it; and a symlink in the tree must never put a mount outside the tree.
 */
describe.runIf(isRoot)(`dib-cli internal mount on the real kernel${rootOnlyReason}`, () => {
  const host = new Host({ log: () => {} });
  let before: HostSnapshot;
  let scratch: string;
  let build: string;
  let root: string;
  let cache: string;
  /** A host directory outside the build that a planted symlink points at. */
  let outside: string;

  beforeEach(() => {
    before = hostSnapshot();
    scratch = mkdtempSync(join(tmpdir(), "dib-internal-mount-it-"));
    build = join(scratch, "build");
    root = join(build, "mnt");
    cache = join(scratch, "image-cache", "apt", "debian-amd64");
    outside = join(scratch, "host-etc");
    for (const d of [root, cache, outside]) mkdirSync(d, { recursive: true });
    // The build made its ledger before any hook runs.
    writeFileSync(join(build, LEDGER_FILE), "");
  });

  afterEach(async () => {
    // Belt and braces: whatever a failed case left is released through the ledger.
    await cleanupBuildDir(build, { host, force: true }).catch(() => {});
    expectHostClean(before, [scratch]);
    rmSync(scratch, { recursive: true, force: true });
  });

  const hookEnv = () => ({ env: { DIB_LEDGER_DIR: build } });
  const mountsIn = (dir: string) => mountsBelow(dir).map((m) => m.target);
  const heldMounts = () => {
    const ledger = Ledger.open(build, host);
    ledger.close();
    return ledger.held().filter((e) => e.resource.kind === "mount");
  };

  it("records an element's bind in the ledger, and `dib-cli cleanup` releases it once its maker is gone", async () => {
    // A stand-in for the build: it runs the hook's command and is then killed with
    // SIGKILL before any unmount, as `kill -9 dib-cli` between root.d and post-root.d.
    const builder = spawn(
      "bash",
      [
        "-c",
        `"$NODE" --conditions=@dib/source --import "$TSX" "$CLI" internal mount --root "$ROOT" --bind "$CACHE" /var/cache/apt/archives && echo mounted && exec sleep 600`,
      ],
      {
        env: {
          ...process.env,
          ...hookEnv().env,
          NODE: process.execPath,
          TSX: import.meta.resolve("tsx"),
          CLI: cliEntry,
          ROOT: root,
          CACHE: cache,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const ended = new Promise<void>((resolve) => builder.on("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let stderr = "";
      builder.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      builder.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes("mounted")) resolve();
      });
      void ended.then(() => reject(new Error(`the hook ended first: ${stderr}`)));
    });
    const archives = join(root, "var/cache/apt/archives");
    expect(mountsIn(root)).toEqual([archives]);
    writeFileSync(join(archives, "kept.deb"), "x");
    expect(existsSync(join(cache, "kept.deb"))).toBe(true);

    const [entry, ...more] = heldMounts();
    expect(more).toEqual([]);
    expect(entry?.resource).toEqual({ kind: "mount", target: archives, source: cache, bind: true });
    // Private: nothing mounted below it reaches the host's tree, or the other way round.
    const line = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .find((l) => l.split(" ")[4] === archives);
    expect(line).not.toContain("shared:");

    builder.kill("SIGKILL");
    await ended;
    // The mount outlived its build; a second Ledger over the same directory (what
    // `dib-cli cleanup` opens) finds it and releases it.
    expect(mountsIn(root)).toEqual([archives]);
    const cleanup = await runCli(["cleanup", build]);
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toContain(`released mount at ${archives}`);
    expect(mountsIn(root)).toEqual([]);
    expect(heldMounts()).toEqual([]);
    expect(existsSync(join(cache, "kept.deb"))).toBe(true);
  });

  it("mounts what a chroot needs (proc, sysfs, devpts, a read-only bind) and releases them by entry", async () => {
    const mount = async (...args: string[]) => {
      const r = await runCli(["internal", "mount", "--root", root, ...args], hookEnv());
      expect(r.exitCode, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    const proc = await mount("-t", "proc", "proc", "/proc");
    const sys = await mount("-t", "sysfs", "-o", "ro", "sysfs", "sys");
    const dev = await mount("--bind", "/dev", "/dev");
    const pts = await mount(
      "-t",
      "devpts",
      "-o",
      "gid=5,mode=620,ptmxmode=666",
      "devpts",
      "/dev/pts",
    );
    const ro = await mount("--bind", "--read-only", cache, "/var/cache/apt/archives");
    expect([proc, sys, dev, pts, ro].every((e) => /^\d+$/.test(e))).toBe(true);
    const byTarget = new Map(readMountinfo().map((m) => [m.target, m]));
    expect(byTarget.get(join(root, "proc"))?.fstype).toBe("proc");
    expect(byTarget.get(join(root, "sys"))?.fstype).toBe("sysfs");
    expect(byTarget.get(join(root, "sys"))?.options).toMatch(/^ro\b/);
    expect(byTarget.get(join(root, "dev/pts"))?.fstype).toBe("devpts");
    expect(existsSync(join(root, "dev/null"))).toBe(true);
    expect(() => writeFileSync(join(root, "var/cache/apt/archives/x"), "")).toThrow(/EROFS/);

    // Again: the build holds them already, so nothing is stacked and nothing printed.
    expect(await mount("-t", "proc", "proc", "/proc")).toBe("");
    expect(mountsIn(join(root, "proc"))).toEqual([join(root, "proc")]);

    // Released by entry, newest first whatever the order given, in one call as
    // debootstrap's exit trap does; then by path.
    const byEntry = await runCli(["internal", "umount", "--entry", proc, sys, dev, pts], hookEnv());
    expect(byEntry.exitCode, byEntry.stderr).toBe(0);
    expect(mountsIn(root)).toEqual([join(root, "var/cache/apt/archives")]);
    const byPath = await runCli(
      ["internal", "umount", "--root", root, "/var/cache/apt/archives"],
      hookEnv(),
    );
    expect(byPath.exitCode, byPath.stderr).toBe(0);
    expect(mountsIn(root)).toEqual([]);
    expect(heldMounts()).toEqual([]);
    // Released twice (post-root.d, then cleanup.d): nothing to do.
    const again = await runCli(
      ["internal", "umount", "--root", root, "/var/cache/apt/archives"],
      hookEnv(),
    );
    expect(again.exitCode, again.stderr).toBe(0);
  });

  it("keeps a mount inside the tree when the tree's symlinks point outside it", async () => {
    // var/cache/apt -> the host directory, by absolute and by climbing relative paths.
    mkdirSync(join(root, "var/cache"), { recursive: true });
    symlinkSync(outside, join(root, "var/cache/apt"));
    mkdirSync(join(root, "tmp"));
    symlinkSync("../../../../../../../..", join(root, "tmp/up"));
    const r = await runCli(
      ["internal", "mount", "--root", root, "--bind", cache, "/var/cache/apt/archives"],
      hookEnv(),
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const up = await runCli(
      ["internal", "mount", "--root", root, "-t", "tmpfs", "tmpfs", `/tmp/up${outside}/tmp`],
      hookEnv(),
    );
    expect(up.exitCode, up.stderr).toBe(0);
    // Where a process chrooted into the tree finds them: inside the tree.
    const contained = [join(root, outside, "archives"), join(root, outside, "tmp")];
    expect(mountsIn(root).sort()).toEqual(contained.sort());
    expect(
      heldMounts()
        .map((e) => (e.resource as { target: string }).target)
        .sort(),
    ).toEqual(contained.sort());
    // Nothing outside the build was mounted on, or made.
    expect(mountsIn(outside)).toEqual([]);
    expect(readdirSync(outside)).toEqual([]);
    expect(mountsBelow(scratch).every((m) => m.target.startsWith(`${root}/`))).toBe(true);

    // A symlink to the tree's own root (archives -> /) would cover the whole tree: refused.
    rmSync(join(root, "var/cache/apt"));
    mkdirSync(join(root, "var/cache/apt"));
    symlinkSync("/", join(root, "var/cache/apt/archives"));
    const refused = await runCli(
      ["internal", "mount", "--root", root, "--bind", cache, "/var/cache/apt/archives"],
      hookEnv(),
    );
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("error DIB_MOUNT_OUTSIDE_TREE");
    expect(heldMounts()).toHaveLength(2);

    const report = await cleanupBuildDir(build, { host });
    expect(report.released).toHaveLength(2);
    expect(mountsIn(scratch)).toEqual([]);
  });
});
