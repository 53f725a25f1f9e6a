import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Host, isDibError } from "@dib/host";
import { type GuestKernel, probeKernel } from "./guest-kernel.js";
import { PROBE_MARKER, probeInitramfs } from "./probe-initramfs.js";
import { kvmProbeArgv } from "./qemu-argv.js";

/** What the KVM probe guest did. */
export type KvmProbeOutcome =
  /** Linux ran the probe's /init, which printed the marker. */
  | { kind: "userspace"; seconds: number; kernel: string }
  /** Still running at the time limit without the marker; `lastLine` is the last console output. */
  | { kind: "stalled"; seconds: number; kernel: string; lastLine?: string }
  /** QEMU ended before the marker: it could not start KVM, or the kernel panicked. */
  | { kind: "exited"; kernel: string; qemuError?: string; lastLine?: string }
  /** There is no /dev/kvm at all. */
  | { kind: "no-kvm" }
  /** No kernel to boot (no readable /boot/vmlinuz-*, and Debian's could not be fetched). */
  | { kind: "no-probe-guest"; detail: string };

export interface KvmProbeOptions {
  qemu?: string;
  /** Where the probe initramfs (and Debian's kernel, if needed) are kept. */
  cacheDir: string;
  /** How long the guest has to reach userspace (KVM boots this guest in about a second). */
  timeoutMs?: number;
  /** The kernel to boot (default: the host's own, else Debian's cloud kernel). */
  kernel?: GuestKernel;
  /** Where /dev/kvm is (tests point it elsewhere). */
  kvmDevice?: string;
}

export const KVM_PROBE_TIMEOUT_MS = 20_000;

/** The probe initramfs on disk, written once (it is 700 bytes; the file is for QEMU). */
function probeInitrd(cacheDir: string): string {
  const bytes = probeInitramfs();
  const path = join(cacheDir, "kvm-probe-initramfs.cpio");
  if (existsSync(path) && readFileSync(path).equals(bytes)) return path;
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${path}.${process.pid}`;
  writeFileSync(partial, bytes);
  renameSync(partial, path);
  return path;
}

const lastLineOf = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .at(-1);

/**
 * Boots Linux under KVM for a moment: a real kernel with an initramfs whose /init prints a
 * marker from userspace. Firmware output proves nothing: on some nested hosts KVM runs
 * SeaBIOS but the kernel hangs right after its real-mode setup.
 */
export async function probeKvm(host: Host, options: KvmProbeOptions): Promise<KvmProbeOutcome> {
  if (!existsSync(options.kvmDevice ?? "/dev/kvm")) return { kind: "no-kvm" };
  let kernel: GuestKernel;
  let initrd: string;
  try {
    kernel = options.kernel ?? (await probeKernel(host, options.cacheDir));
    initrd = probeInitrd(options.cacheDir);
  } catch (error) {
    const detail = isDibError(error) ? error.message : (error as Error).message;
    return { kind: "no-probe-guest", detail };
  }
  const timeoutMs = options.timeoutMs ?? KVM_PROBE_TIMEOUT_MS;
  const started = Date.now();
  const child = host.spawn(
    kvmProbeArgv({
      kernel: kernel.vmlinuz,
      initrd,
      ...(options.qemu ? { qemu: options.qemu } : {}),
    }),
  );
  let console = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer | string) => {
    stderr += chunk.toString();
  });
  const reached = new Promise<"userspace">((resolve) => {
    child.stdout?.on("data", (chunk: Buffer | string) => {
      console += chunk.toString();
      if (console.includes(PROBE_MARKER)) resolve("userspace");
    });
  });
  const exited = child.then(() => "exited" as const);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const result = await Promise.race([reached, exited, timedOut]);
  clearTimeout(timer);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // Not forever: something QEMU left behind could hold its stdout open.
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  const lastLine = lastLineOf(console);
  const seen = lastLine === undefined ? {} : { lastLine };
  // The marker can arrive together with QEMU's exit (the guest powers itself off).
  if (result === "userspace" || console.includes(PROBE_MARKER)) {
    return { kind: "userspace", seconds, kernel: kernel.origin };
  }
  if (result === "timeout") return { kind: "stalled", seconds, kernel: kernel.origin, ...seen };
  const qemuError = lastLineOf(stderr.replace(/^.*warning:.*$/gm, ""));
  return { kind: "exited", kernel: kernel.origin, ...(qemuError ? { qemuError } : {}), ...seen };
}
