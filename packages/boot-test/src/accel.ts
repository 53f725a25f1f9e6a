import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { DibError, findTool, type Host } from "@dib/host";
import { bootTestCacheDir, type GuestKernel } from "./guest-kernel.js";
import { KVM_PROBE_TIMEOUT_MS, type KvmProbeOutcome, probeKvm } from "./kvm-probe.js";
import type { Accel } from "./qemu-argv.js";

export type AccelRequest = Accel | "auto";

/** Whether KVM boots Linux here, and what showed it. */
export interface KvmStatus {
  usable: boolean;
  /** What the probe saw, in words: "a KVM guest booted Linux (…) to userspace in 1.2 s". */
  reason: string;
  /** When that was found out (epoch ms). */
  checkedAt: number;
  /** The answer was read from the cache file an earlier dib process wrote. */
  cached?: boolean;
}

export interface KvmStatusOptions {
  /** Where the probe guest and the answer are kept (default: bootTestCacheDir()). */
  cacheDir?: string;
  /** Probe again even if this process or the cache file has an answer (doctor does). */
  fresh?: boolean;
  timeoutMs?: number;
  kernel?: GuestKernel;
  kvmDevice?: string;
}

/**
 * How long a probe's answer is reused by later dib processes on the same boot of the host
 * with the same QEMU. Without it every `dib-cli boot-test` (and each e2e worker) would pay
 * for a probe: about a second where KVM works, but the whole probe timeout where KVM hangs
 * Linux. An hour is short enough that loading kvm_intel or changing nesting settings is
 * noticed soon; a stale "usable" is caught by boot-test's watchdog anyway, and a stale
 * "unusable" only costs speed. Rebooting the host or updating QEMU invalidates it at once.
 */
export const KVM_STATUS_TTL_MS = 60 * 60 * 1000;
const CACHE_FILE = "kvm-probe.json";
const CACHE_VERSION = 1;

/**
 * The decision, from what the probe saw: only a guest whose Linux reached userspace makes
 * KVM usable. Firmware output, a kernel that printed but stalled, and a probe that could
 * not be run at all (no kernel to boot) all mean TCG.
 */
export function kvmStatusFrom(outcome: KvmProbeOutcome, checkedAt = Date.now()): KvmStatus {
  const status = (usable: boolean, reason: string): KvmStatus => ({ usable, reason, checkedAt });
  switch (outcome.kind) {
    case "userspace":
      return status(
        true,
        `a KVM guest booted Linux (${outcome.kernel}) to userspace in ${outcome.seconds} s`,
      );
    case "stalled":
      return status(
        false,
        outcome.lastLine === undefined
          ? `the KVM guest's kernel (${outcome.kernel}) printed nothing in ${outcome.seconds} s`
          : `the KVM guest's kernel (${outcome.kernel}) stopped after "${outcome.lastLine}" and reached no userspace in ${outcome.seconds} s`,
      );
    case "exited":
      return status(
        false,
        outcome.qemuError !== undefined
          ? `QEMU could not run a KVM guest: ${outcome.qemuError}`
          : outcome.lastLine !== undefined
            ? `the KVM guest's kernel (${outcome.kernel}) ended before userspace after "${outcome.lastLine}"`
            : `the KVM guest (${outcome.kernel}) ended before printing anything`,
      );
    case "no-kvm":
      return status(false, "no /dev/kvm");
    case "no-probe-guest":
      return status(false, `KVM not tried: no Linux kernel to probe it with (${outcome.detail})`);
  }
}

const inProcess = new Map<string, Promise<KvmStatus>>();

/** What makes an answer stale: another boot of the host, another QEMU binary or build. */
function cacheKey(qemu: string): string {
  let bootId = "";
  try {
    bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {}
  const path = isAbsolute(qemu) ? qemu : (findTool(qemu) ?? qemu);
  let identity = "missing";
  try {
    const st = statSync(path);
    identity = `${st.size}:${st.mtimeMs}`;
  } catch {}
  return `${bootId}|${path}|${identity}`;
}

function readCached(cacheDir: string, key: string): KvmStatus | undefined {
  try {
    const saved = JSON.parse(readFileSync(join(cacheDir, CACHE_FILE), "utf8")) as {
      version?: number;
      key?: string;
      status?: KvmStatus;
    };
    const status = saved.status;
    if (saved.version !== CACHE_VERSION || saved.key !== key || !status) return undefined;
    const age = Date.now() - status.checkedAt;
    if (!(age >= 0 && age < KVM_STATUS_TTL_MS)) return undefined;
    return {
      usable: status.usable,
      reason: status.reason,
      checkedAt: status.checkedAt,
      cached: true,
    };
  } catch {
    return undefined;
  }
}

/** Best effort: a cache that cannot be written only means the next process probes again. */
function writeCached(cacheDir: string, key: string, status: KvmStatus): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    const file = join(cacheDir, CACHE_FILE);
    const partial = `${file}.${process.pid}`;
    const { cached: _, ...plain } = status;
    writeFileSync(partial, `${JSON.stringify({ version: CACHE_VERSION, key, status: plain })}\n`);
    renameSync(partial, file);
  } catch {}
}

/**
 * Whether KVM boots Linux on this host, found out by booting a real kernel with a tiny
 * initramfs under KVM and waiting for its userspace marker. The answer is kept for the
 * process, and in a cache file for KVM_STATUS_TTL_MS for later processes.
 */
export function kvmStatus(
  host: Host,
  qemu = "qemu-system-x86_64",
  options: KvmStatusOptions = {},
): Promise<KvmStatus> {
  const cacheDir = options.cacheDir ?? bootTestCacheDir();
  const memoKey = `${cacheDir}|${qemu}`;
  const known = options.fresh ? undefined : inProcess.get(memoKey);
  if (known) return known;
  const answer = (async () => {
    const key = cacheKey(qemu);
    const cached = options.fresh ? undefined : readCached(cacheDir, key);
    if (cached) {
      host.debug(`KVM probe (cached): ${cached.reason}`);
      return cached;
    }
    const outcome = await probeKvm(host, {
      qemu,
      cacheDir,
      timeoutMs: options.timeoutMs ?? KVM_PROBE_TIMEOUT_MS,
      ...(options.kernel ? { kernel: options.kernel } : {}),
      ...(options.kvmDevice ? { kvmDevice: options.kvmDevice } : {}),
    });
    const status = kvmStatusFrom(outcome);
    host.debug(`KVM probe: ${status.reason}`);
    writeCached(cacheDir, key, status);
    return status;
  })();
  inProcess.set(memoKey, answer);
  return answer;
}

export async function kvmWorks(
  host: Host,
  qemu?: string,
  options?: KvmStatusOptions,
): Promise<boolean> {
  return (await kvmStatus(host, qemu, options)).usable;
}

/** Forgets the answers this process has (for tests); the cache file stays. */
export function forgetKvmProbe(): void {
  inProcess.clear();
}

/**
 * Sets the answer for this process and later ones, as if a probe had given it: boot-test
 * records a KVM boot that made no progress this way, and tests force an answer with it.
 */
export function rememberKvmStatus(
  status: { usable: boolean; reason: string },
  qemu = "qemu-system-x86_64",
  options: { cacheDir?: string } = {},
): KvmStatus {
  const cacheDir = options.cacheDir ?? bootTestCacheDir();
  const remembered: KvmStatus = {
    usable: status.usable,
    reason: status.reason,
    checkedAt: Date.now(),
  };
  inProcess.set(`${cacheDir}|${qemu}`, Promise.resolve(remembered));
  writeCached(cacheDir, cacheKey(qemu), remembered);
  return remembered;
}

/**
 * The accelerator to boot with: `auto` takes KVM only when the probe guest's Linux reached
 * userspace, and TCG otherwise; an explicit `kvm` that cannot work is an error rather than
 * a slow surprise.
 */
export async function resolveAccel(
  request: AccelRequest,
  host: Host,
  qemu?: string,
  options?: KvmStatusOptions,
): Promise<Accel> {
  if (request === "tcg") return "tcg";
  const status = await kvmStatus(host, qemu, options);
  if (status.usable) return "kvm";
  if (request === "kvm") {
    throw new DibError(
      "DIB_KVM_UNAVAILABLE",
      `KVM cannot boot Linux on this host: ${status.reason}`,
      {
        hint: "check that /dev/kvm is usable (kvm_intel/kvm_amd loaded, nested virtualisation on), or use --accel tcg",
      },
    );
  }
  return "tcg";
}
