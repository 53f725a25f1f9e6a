import { readFileSync, realpathSync } from "node:fs";
import { DibError, type Host, type Ledger, type MountOptions, resolveInRoot } from "@dib/host";

export interface ChrootFilesystems {
  root: string;
  /** Ends the processes left in the chroot, then unmounts /sys, /dev/pts, /dev and /proc. */
  release(): Promise<void>;
}

export interface MountChrootOptions {
  host: Host;
  ledger: Ledger;
  /** The host's /proc/self/mountinfo text (read when not given), for the devpts options. */
  mountinfo?: string;
}

/** Used when the host has no /dev/pts to copy options from: a private instance. */
const FALLBACK_DEVPTS_OPTIONS = ["newinstance", "ptmxmode=0666", "mode=620", "gid=5"];

/**
 * The options to mount a devpts on the chroot's /dev/pts with: those of the host's
 * /dev/pts (its per-mount and its filesystem options, as `findmnt` shows them), or a
 * private instance when the host has none.
 */
export function devptsOptions(mountinfo: string): string[] {
  // The last entry is the one on top when several are stacked on /dev/pts.
  for (const line of mountinfo.split("\n").reverse()) {
    const [left = "", right = ""] = line.split(" - ");
    const fields = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    if (fstype !== "devpts" || fields[4] !== "/dev/pts") continue;
    const options: string[] = [];
    for (const option of [...(fields[5] ?? "").split(","), ...superOptions.split(",")]) {
      if (option !== "" && !options.includes(option)) options.push(option);
    }
    return options.filter((o) => o !== "ro");
  }
  return [...FALLBACK_DEVPTS_OPTIONS];
}

/**
 * Mounts what a chroot needs, all through the ledger (spec §2.4 step 4): /proc, /dev (a
 * private bind of the host's, so nothing mounted below it propagates back), /dev/pts, and
 * /sys read-only (which tells udev and systemd that they run in a container). Records the
 * chroot last, so that undo ends the processes inside before unmounting.
 */
export async function mountChrootFilesystems(
  root: string,
  options: MountChrootOptions,
): Promise<ChrootFilesystems> {
  const { ledger } = options;
  const real = realpathSync(root);
  if (real === "/") {
    throw new DibError("DIB_CHROOT_ROOT", "refusing to mount chroot filesystems on the host's /");
  }
  const seqs: number[] = [];
  const mount = async (sub: string, spec: Omit<MountOptions, "target">) => {
    // Resolved inside the tree: an image whose /dev or /proc is a symlink (to /../../etc,
    // say) gets it mounted inside itself, never over a host directory.
    const target = resolveInRoot(real, sub, { create: true });
    seqs.push((await ledger.mount({ ...spec, target })).seq);
  };
  const release = async () => {
    while (seqs.length > 0) await ledger.release(seqs.pop() as number);
  };
  try {
    await mount("proc", { source: "proc", fstype: "proc" });
    await mount("dev", { source: "/dev", bind: true, options: ["private"] });
    const mountinfo = options.mountinfo ?? readFileSync("/proc/self/mountinfo", "utf8");
    await mount("dev/pts", {
      source: "devpts",
      fstype: "devpts",
      options: devptsOptions(mountinfo),
    });
    await mount("sys", { source: "sysfs", fstype: "sysfs", options: ["ro"] });
    seqs.push((await ledger.chroot(real)).seq);
  } catch (error) {
    // What could not be released stays in the ledger for its undo.
    await release().catch(() => {});
    throw error;
  }
  return { root: real, release };
}
