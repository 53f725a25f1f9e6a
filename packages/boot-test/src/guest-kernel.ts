import { createHash } from "node:crypto";
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from "node:fs";
import { homedir, release } from "node:os";
import { basename, join } from "node:path";
import { DibError, type Host } from "@dib/host";

/** A Linux kernel a small test guest can boot directly with `-kernel`. */
export interface GuestKernel {
  vmlinuz: string;
  /** Where it came from, for messages: `/boot/vmlinuz-6.1.0-28-amd64`, `linux-image-…-cloud-amd64`. */
  origin: string;
}

/**
 * Where boot-test keeps what it fetched or learned between runs: the Debian kernel it boots
 * probe guests with when the host has none in /boot, and the last KVM probe's answer.
 * `DIB_BOOT_TEST_CACHE`, else `~/.cache/dib/boot-test`.
 */
export function bootTestCacheDir(): string {
  return process.env.DIB_BOOT_TEST_CACHE || join(homedir(), ".cache/dib/boot-test");
}

const readable = (path: string) => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The host's own kernel when /boot has one dib can read (the running one first, else the
 * newest), so a probe needs no download; undefined otherwise (containers, VMs booted
 * straight from a kernel outside the guest, Ubuntu's root-only vmlinuz as a normal user).
 */
export function hostKernel(bootDir = "/boot"): GuestKernel | undefined {
  const running = join(bootDir, `vmlinuz-${release()}`);
  if (readable(running)) return { vmlinuz: running, origin: running };
  let names: string[] = [];
  try {
    names = readdirSync(bootDir).filter((n) => /^vmlinuz-\d/.test(n));
  } catch {
    return undefined;
  }
  const newest = names
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .reverse()
    .map((n) => join(bootDir, n))
    .find(readable);
  return newest ? { vmlinuz: newest, origin: newest } : undefined;
}

/** Debian's cloud kernel, unpacked, with whichever of its modules a guest asked for. */
export interface DebianGuestParts {
  vmlinuz: string;
  /** `<dir>/<name>.ko` for each module asked for. */
  modulesDir: string;
  /** A static busybox, when asked for. */
  busybox?: string;
  kernelPackage: string;
}

const APT_ARCHIVES = "/var/cache/apt/archives";

/**
 * A package's .deb: from apt's own cache when it is there, else from `debsDir`, where
 * `apt-get download` puts it the first time (kept: the next parts set needs no download).
 */
async function debFile(host: Host, pkg: string, debsDir: string): Promise<string> {
  const inDir = (dir: string) => {
    try {
      const found = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
      return found === undefined ? undefined : join(dir, found);
    } catch {
      return undefined;
    }
  };
  const cached = inDir(APT_ARCHIVES) ?? inDir(debsDir);
  if (cached) return cached;
  mkdirSync(debsDir, { recursive: true });
  const scratch = mkdtempSync(join(debsDir, "download-"));
  try {
    await host.run(["apt-get", "download", pkg], { cwd: scratch });
    const got = inDir(scratch);
    if (!got) {
      throw new DibError("DIB_BOOT_GUEST_KERNEL", `apt-get download ${pkg} left no .deb`, {
        hint: "run apt-get update, or check that deb.debian.org can be reached",
      });
    }
    const kept = join(debsDir, basename(got));
    renameSync(got, kept);
    return kept;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The versioned cloud kernel package the linux-image-cloud-amd64 metapackage points at. */
async function cloudKernelPackage(host: Host): Promise<string> {
  let cached: string | undefined;
  try {
    cached = readdirSync(APT_ARCHIVES)
      .filter((f) => /^linux-image-\d.*-cloud-amd64_.*\.deb$/.test(f))
      .sort()
      .at(-1);
  } catch {}
  if (cached) return cached.split("_")[0] ?? "";
  const { stdout } = await host.run(["apt-cache", "depends", "linux-image-cloud-amd64"], {
    allowFailure: true,
  });
  const name = /Depends: (linux-image-\S+-cloud-amd64)/.exec(stdout)?.[1];
  if (!name) {
    throw new DibError("DIB_BOOT_GUEST_KERNEL", "apt knows no linux-image-cloud-amd64", {
      hint: "run apt-get update (Debian's cloud kernel is fetched to boot small test guests)",
    });
  }
  return name;
}

/**
 * Debian's cloud kernel (`linux-image-*-cloud-amd64`), its `modules` (paths below
 * `kernel/`, e.g. `drivers/block/virtio_blk.ko`) and, with `busybox`, `busybox-static`:
 * fetched with apt once and kept unpacked in `cacheDir`. Every set of modules gets its own
 * directory, so callers asking for different ones do not race on the same files.
 */
export async function debianGuestParts(
  host: Host,
  cacheDir: string,
  options: { modules?: readonly string[]; busybox?: boolean } = {},
): Promise<DebianGuestParts> {
  const modules = options.modules ?? [];
  const kernelPackage = await cloudKernelPackage(host);
  const modulesKey = createHash("sha256").update(modules.join("\n")).digest("hex").slice(0, 8);
  const key = `${kernelPackage}${options.busybox ? "+busybox" : ""}${modules.length > 0 ? `+modules-${modulesKey}` : ""}`;
  const ready = join(cacheDir, key);
  const parts = (dir: string): DebianGuestParts => ({
    vmlinuz: join(dir, "vmlinuz"),
    modulesDir: join(dir, "modules"),
    ...(options.busybox ? { busybox: join(dir, "busybox") } : {}),
    kernelPackage,
  });
  if (existsSync(join(ready, "complete"))) return parts(ready);
  mkdirSync(cacheDir, { recursive: true });
  const scratch = mkdtempSync(join(cacheDir, "fetch-"));
  try {
    const tree = join(scratch, "tree");
    await host.run([
      "dpkg-deb",
      "-x",
      await debFile(host, kernelPackage, join(cacheDir, "debs")),
      tree,
    ]);
    if (options.busybox) {
      await host.run([
        "dpkg-deb",
        "-x",
        await debFile(host, "busybox-static", join(cacheDir, "debs")),
        tree,
      ]);
    }
    const out = join(scratch, "parts");
    mkdirSync(join(out, "modules"), { recursive: true });
    const vmlinuz = readdirSync(join(tree, "boot")).find((f) => f.startsWith("vmlinuz-"));
    if (!vmlinuz) throw new DibError("DIB_BOOT_GUEST_KERNEL", `${kernelPackage} has no vmlinuz`);
    copyFileSync(join(tree, "boot", vmlinuz), join(out, "vmlinuz"));
    const modulesRoot = join(tree, "lib/modules");
    const kernelRelease = readdirSync(modulesRoot)[0] ?? "";
    for (const m of modules) {
      copyFileSync(
        join(modulesRoot, kernelRelease, "kernel", m),
        join(out, "modules", m.split("/").at(-1) ?? m),
      );
    }
    if (options.busybox) copyFileSync(join(tree, "bin/busybox"), join(out, "busybox"));
    // Marked complete only once everything is in place; a racing fetch that lost just
    // leaves its copy in scratch, which is removed below.
    mkdirSync(join(out, "complete"));
    try {
      renameSync(out, ready);
    } catch (error) {
      if (!existsSync(join(ready, "complete"))) throw error;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return parts(ready);
}

/** The kernel a probe guest boots: the host's own, else Debian's cloud kernel (fetched once). */
export async function probeKernel(host: Host, cacheDir: string): Promise<GuestKernel> {
  const own = hostKernel();
  if (own) return own;
  const parts = await debianGuestParts(host, cacheDir);
  return { vmlinuz: parts.vmlinuz, origin: parts.kernelPackage };
}
