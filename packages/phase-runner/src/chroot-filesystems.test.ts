import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Host, Ledger, MountOptions } from "@dib/host";
import { describe, expect, it } from "vitest";
import { devptsOptions, mountChrootFilesystems } from "./chroot-filesystems.js";

const MOUNTINFO = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "25 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=100k,mode=755",
  "26 25 0:23 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts rw,gid=5,mode=620,ptmxmode=000",
].join("\n");

describe("devptsOptions", () => {
  it("copies the host's /dev/pts options, per-mount and filesystem ones, like findmnt shows them", () => {
    expect(devptsOptions(MOUNTINFO)).toEqual([
      "rw",
      "nosuid",
      "noexec",
      "relatime",
      "gid=5",
      "mode=620",
      "ptmxmode=000",
    ]);
  });

  it("takes the topmost of stacked /dev/pts mounts", () => {
    const stacked = `${MOUNTINFO}\n27 26 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=666`;
    expect(devptsOptions(stacked)).toEqual(["rw", "relatime", "mode=600", "ptmxmode=666"]);
  });

  it("falls back to a private instance when the host has no /dev/pts", () => {
    expect(devptsOptions(MOUNTINFO.split("\n").slice(0, 2).join("\n"))).toEqual([
      "newinstance",
      "ptmxmode=0666",
      "mode=620",
      "gid=5",
    ]);
  });
});

function recordingLedger() {
  const calls: string[] = [];
  let seq = 0;
  const ledger = {
    async mount(o: MountOptions) {
      calls.push(
        `mount ${o.fstype ?? "bind"} ${o.source} ${o.target} ${(o.options ?? []).join(",")}`,
      );
      return { seq: ++seq, detail: { target: o.target } };
    },
    async chroot(root: string) {
      calls.push(`chroot ${root}`);
      return { seq: ++seq, detail: { root } };
    },
    async release(n: number) {
      calls.push(`release ${n}`);
    },
  };
  return { ledger: ledger as unknown as Ledger, calls };
}

describe("mountChrootFilesystems", () => {
  it("mounts proc, a private /dev bind, devpts and read-only sysfs, records the chroot, and releases in reverse", async () => {
    const root = mkdtempSync(join(tmpdir(), "phase-runner-mounts-"));
    try {
      const { ledger, calls } = recordingLedger();
      const fs = await mountChrootFilesystems(root, {
        host: {} as Host,
        ledger,
        mountinfo: MOUNTINFO,
      });
      await fs.release();
      expect(calls).toEqual([
        `mount proc proc ${root}/proc `,
        `mount bind /dev ${root}/dev private`,
        `mount devpts devpts ${root}/dev/pts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000`,
        `mount sysfs sysfs ${root}/sys ro`,
        `chroot ${root}`,
        "release 5",
        "release 4",
        "release 3",
        "release 2",
        "release 1",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("mounts inside the tree when the image's /proc and /sys are symlinks leading out", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "phase-runner-links-"));
    const root = join(scratch, "root");
    try {
      mkdirSync(root);
      symlinkSync("/../../../../../escaped", join(root, "proc"));
      symlinkSync(join(scratch, "host-sys"), join(root, "sys"));
      const { ledger, calls } = recordingLedger();
      await mountChrootFilesystems(root, { host: {} as Host, ledger, mountinfo: MOUNTINFO });
      expect(calls.slice(0, 4)).toEqual([
        `mount proc proc ${root}/escaped `,
        `mount bind /dev ${root}/dev private`,
        `mount devpts devpts ${root}/dev/pts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000`,
        `mount sysfs sysfs ${root}${scratch}/host-sys ro`,
      ]);
      expect(existsSync(join(scratch, "host-sys"))).toBe(false);
      expect(existsSync("/escaped")).toBe(false);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("refuses the host's own root", async () => {
    const { ledger } = recordingLedger();
    await expect(mountChrootFilesystems("/", { host: {} as Host, ledger })).rejects.toMatchObject({
      code: "DIB_CHROOT_ROOT",
    });
  });
});
