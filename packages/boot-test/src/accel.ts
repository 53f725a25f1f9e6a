import { DibError, type Host } from "@dib/host";
import { type Accel, KVM_PROBE_SUCCESS, kvmProbeArgv } from "./qemu-argv.js";

export type AccelRequest = Accel | "auto";

/** Whether KVM runs guests here, and what the probe saw. */
export interface KvmStatus {
  usable: boolean;
  reason: string;
}

const PROBE_TIMEOUT_MS = 10_000;

let probed: Promise<KvmStatus> | undefined;

/**
 * Whether KVM can run a guest on this host, found out by running one for a moment rather
 * than trusting /dev/kvm: the node exists on hosts where KVM cannot run an ordinary guest.
 * The answer is kept for the life of the process; it does not change while dib runs.
 */
export function kvmStatus(host: Host, qemu?: string): Promise<KvmStatus> {
  probed ??= probeKvm(host, qemu);
  return probed;
}

export async function kvmWorks(host: Host, qemu?: string): Promise<boolean> {
  return (await kvmStatus(host, qemu)).usable;
}

/** Forgets the cached answer (for tests). */
export function forgetKvmProbe(): void {
  probed = undefined;
}

async function probeKvm(host: Host, qemu?: string): Promise<KvmStatus> {
  const child = host.spawn(kvmProbeArgv(qemu));
  let output = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer | string) => {
    stderr += chunk.toString();
  });
  const sawFirmware = new Promise<"firmware">((resolve) => {
    child.stdout?.on("data", (chunk: Buffer | string) => {
      output += chunk.toString();
      if (KVM_PROBE_SUCCESS.test(output)) resolve("firmware");
    });
  });
  const exited = child.then(() => "exited" as const);
  const timedOut = new Promise<"timeout">((resolve) =>
    setTimeout(() => resolve("timeout"), PROBE_TIMEOUT_MS).unref(),
  );
  const outcome = await Promise.race([sawFirmware, exited, timedOut]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  // Not forever: something QEMU left behind could hold its stdout open.
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  const status: KvmStatus =
    outcome === "firmware"
      ? { usable: true, reason: "a KVM guest ran its firmware" }
      : outcome === "timeout"
        ? {
            usable: false,
            reason: `a KVM guest showed no firmware output within ${PROBE_TIMEOUT_MS / 1000} s`,
          }
        : {
            usable: false,
            reason: stderr.trim().split("\n").at(-1) || "QEMU could not start a KVM guest",
          };
  host.debug(`KVM probe: ${status.reason}`);
  return status;
}

/**
 * The accelerator to boot with: `auto` takes KVM when the probe guest ran and TCG
 * otherwise; an explicit `kvm` that cannot work is an error rather than a slow surprise.
 */
export async function resolveAccel(
  request: AccelRequest,
  host: Host,
  qemu?: string,
): Promise<Accel> {
  if (request === "tcg") return "tcg";
  const status = await kvmStatus(host, qemu);
  if (status.usable) return "kvm";
  if (request === "kvm") {
    throw new DibError(
      "DIB_KVM_UNAVAILABLE",
      `KVM cannot run guests on this host: ${status.reason}`,
      {
        hint: "check that /dev/kvm exists and is usable (kvm_intel/kvm_amd loaded, nested virtualisation on), or use --accel tcg",
      },
    );
  }
  return "tcg";
}
