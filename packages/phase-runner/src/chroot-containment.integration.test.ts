import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, Ledger, mountsBelow, readMountinfo } from "@dib/host";
import { hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mountChrootFilesystems } from "./chroot-filesystems.js";
import { mountHooksInTarget } from "./in-target-mount.js";

describe.runIf(isRoot)(`chroot binds stay inside the image${rootOnlyReason}`, () => {
  const host = new Host({ log: () => {} });
  let scratch: string;
  let root: string;
  let ledger: Ledger;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "dib-chroot-contain-"));
    root = join(scratch, "build", "mnt");
    mkdirSync(root, { recursive: true });
    ledger = Ledger.open(join(scratch, "build"), host);
  });

  afterEach(async () => {
    await ledger.undo();
    expect(hostSnapshot().mounts.filter((m) => m.startsWith(scratch))).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it("mounts /proc, /dev and /sys of a tree whose links lead out inside the tree", async () => {
    // An image whose /proc, /dev and /sys lead "up" to directories of the host.
    for (const name of ["proc", "dev", "sys"]) {
      mkdirSync(join(scratch, `host-${name}`));
      symlinkSync(`/../../../../../../..${scratch}/host-${name}`, join(root, name));
    }
    const fs = await mountChrootFilesystems(root, { host, ledger });
    const inside = (name: string) => join(root, scratch.slice(1), `host-${name}`);
    // (the /dev bind has the host's /dev type: devtmpfs, or tmpfs in a container)
    expect(
      mountsBelow(root)
        .map((m) => m.target)
        .sort(),
    ).toEqual([inside("dev"), join(inside("dev"), "pts"), inside("proc"), inside("sys")].sort());
    for (const name of ["proc", "dev", "sys"]) {
      expect(readdirSync(join(scratch, `host-${name}`))).toEqual([]);
    }
    expect(readMountinfo().filter((m) => m.target.startsWith(`${scratch}/host-`))).toEqual([]);

    // the hooks' bind follows a link at /tmp/in_target.d only inside the tree, too
    const hooks = join(scratch, "hooks");
    mkdirSync(hooks);
    mkdirSync(join(root, "tmp"), { recursive: true });
    symlinkSync("/../../../etc", join(root, "tmp", "in_target.d"));
    const inTarget = await mountHooksInTarget(root, hooks, ledger);
    expect(inTarget.path).toBe(join(root, "etc"));
    await inTarget.release();
    await fs.release();
    expect(mountsBelow(root)).toEqual([]);
    expect(existsSync("/etc/passwd")).toBe(true);
  });
});
