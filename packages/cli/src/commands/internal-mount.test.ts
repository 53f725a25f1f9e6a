import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, isDibError, LEDGER_FILE, Ledger, mountsBelow } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProgram } from "../program.js";
import { mountInTree, unmountInTree } from "./internal-mount.js";

/**
 * What `dib-cli internal mount` / `umount` refuse, all before anything is mounted: these
 * need no root. The mounts themselves: internal-mount.integration.test.ts.
 */
describe("dib-cli internal mount / umount refusals", () => {
  const host = new Host();
  let dir: string;
  let build: string;
  let root: string;
  let cache: string;
  const saved = process.env.DIB_LEDGER_DIR;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dib-internal-mount-"));
    build = join(dir, "build");
    root = join(dir, "root");
    cache = join(dir, "cache");
    for (const d of [build, root, cache]) mkdirSync(d);
    // The build made its ledger before any hook runs.
    writeFileSync(join(build, LEDGER_FILE), "");
    process.env.DIB_LEDGER_DIR = build;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.DIB_LEDGER_DIR;
    else process.env.DIB_LEDGER_DIR = saved;
    expect(mountsBelow(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<string> {
    const error = await createProgram()
      .parseAsync(["internal", ...args], { from: "user" })
      .then(() => undefined)
      .catch((e: unknown) => e);
    return isDibError(error) ? error.code : String(error);
  }
  const bindApt = (...extra: string[]) => [
    "mount",
    "--root",
    root,
    ...extra,
    "--bind",
    cache,
    "/var/cache/apt/archives",
  ];
  const ledgerEntries = () => {
    const ledger = Ledger.open(build, host);
    ledger.close();
    return ledger.entries();
  };

  it("refuses without the build's ledger, and makes nothing in the tree", async () => {
    delete process.env.DIB_LEDGER_DIR;
    expect(await cli(...bindApt())).toBe("DIB_NO_LEDGER");
    expect(await cli(...bindApt("--ledger-dir", join(dir, "not-a-build")))).toBe("DIB_NO_LEDGER");
    expect(readdirSync(root)).toEqual([]);
  });

  it("refuses the host's / as the tree, a missing tree and a file", async () => {
    expect(await cli("mount", "--root", "/", "--bind", cache, "/var/cache/apt/archives")).toBe(
      "DIB_MOUNT_ROOT",
    );
    expect(await cli("mount", "--root", join(dir, "absent"), "-t", "proc", "proc", "/proc")).toBe(
      "DIB_MOUNT_ROOT",
    );
    writeFileSync(join(dir, "file"), "");
    expect(await cli("mount", "--root", join(dir, "file"), "-t", "proc", "proc", "/proc")).toBe(
      "DIB_MOUNT_ROOT",
    );
    expect(ledgerEntries()).toEqual([]);
  });

  it("refuses filesystems other than proc, sysfs, devpts and tmpfs, and options that change the mount", async () => {
    expect(await cli("mount", "--root", root, "-t", "ext4", "/dev/vda", "/mnt")).toBe(
      "DIB_MOUNT_FSTYPE",
    );
    for (const option of ["loop", "remount", "bind", "X-mount.mkdir", "offset=512"]) {
      expect(await cli(...bindApt("-o", `ro,${option}`)), option).toBe("DIB_MOUNT_OPTIONS");
    }
    // Exactly one of --bind and --type.
    expect(await cli("mount", "--root", root, "proc", "/proc")).toBe("DIB_MOUNT_OPTIONS");
    expect(await cli("mount", "--root", root, "--bind", "-t", "proc", cache, "/proc")).toBe(
      "DIB_MOUNT_OPTIONS",
    );
    expect(readdirSync(root)).toEqual([]);
    expect(ledgerEntries()).toEqual([]);
  });

  it("binds only host directories named by an absolute path", async () => {
    expect(await cli("mount", "--root", root, "--bind", "cache", "/x")).toBe("DIB_MOUNT_SOURCE");
    expect(await cli("mount", "--root", root, "--bind", join(dir, "absent"), "/x")).toBe(
      "DIB_MOUNT_SOURCE",
    );
    writeFileSync(join(dir, "file"), "");
    expect(await cli("mount", "--root", root, "--bind", join(dir, "file"), "/x")).toBe(
      "DIB_MOUNT_SOURCE",
    );
    expect(ledgerEntries()).toEqual([]);
  });

  it("refuses a mount point that resolves to the tree itself, through a symlink or `..`", async () => {
    mkdirSync(join(root, "var/cache/apt"), { recursive: true });
    symlinkSync("/", join(root, "var/cache/apt/archives"));
    expect(await cli(...bindApt())).toBe("DIB_MOUNT_OUTSIDE_TREE");
    expect(await cli("mount", "--root", root, "-t", "tmpfs", "tmpfs", "/var/..")).toBe(
      "DIB_MOUNT_OUTSIDE_TREE",
    );
    // A tree whose proc is a symlink to the host's /proc is a loop inside the chroot.
    symlinkSync("/proc", join(root, "proc"));
    expect(await cli("mount", "--root", root, "-t", "proc", "proc", "/proc")).toBe(
      "DIB_PATH_SYMLINK_LOOP",
    );
    expect(ledgerEntries()).toEqual([]);
  });

  it("umount wants a tree path or an entry, and an entry that is a mount", async () => {
    expect(await cli("umount")).toBe("DIB_MOUNT_OPTIONS");
    expect(await cli("umount", "--root", root, "--entry", "1", "/proc")).toBe("DIB_MOUNT_OPTIONS");
    expect(await cli("umount", "--entry", "one")).toBe("DIB_MOUNT_OPTIONS");
    const ledger = Ledger.open(build, host);
    const held = await ledger.holdRuntimeObject("podman", "container", "c1");
    ledger.close();
    expect(await cli("umount", "--entry", String(held.seq))).toBe("DIB_MOUNT_ENTRY");
    expect(ledgerEntries()[0]?.released).toBe(false);
  });

  it("releasing what the ledger does not hold, or in a tree that is gone, is nothing to do", async () => {
    expect(await unmountInTree({ root, path: "/var/cache/apt/archives" }, { host })).toEqual([]);
    expect(
      await unmountInTree({ root: join(dir, "gone"), path: "/var/cache/apt/archives" }, { host }),
    ).toEqual([]);
    expect(await unmountInTree({ entries: [7] }, { host })).toEqual([]);
    expect(existsSync(join(root, "var"))).toBe(false);
  });

  it("checks the request before it resolves anything in the tree", async () => {
    const error = await mountInTree(
      { root, path: "/deep/down/proc", source: "proc", fstype: "nfs" },
      { host },
    ).catch((e: unknown) => e);
    expect(isDibError(error) && error.code).toBe("DIB_MOUNT_FSTYPE");
    expect(existsSync(join(root, "deep"))).toBe(false);
  });
});
