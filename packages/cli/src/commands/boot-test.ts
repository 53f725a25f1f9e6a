import {
  type AccelRequest,
  type BootProgress,
  type BootTestResult,
  bootTest,
  checkResize,
  GUEST_ARCHES,
  type GuestArch,
  isForeignGuest,
  type LoginCredentials,
} from "@dib/boot-test";
import { architecture } from "@dib/elements";
import { DibError, Host, installInterruptHandler } from "@dib/host";
import { type Command, Option } from "commander";

/** `user:password`, split at the first colon (a password may contain colons). */
export function parseLogin(value: string): LoginCredentials {
  const colon = value.indexOf(":");
  if (colon <= 0) {
    throw new DibError("DIB_BAD_ARGUMENT", `--login ${value} is not user:password`, {
      hint: "for example --login devuser:secret",
    });
  }
  return { user: value.slice(0, colon), password: value.slice(colon + 1) };
}

export function parsePositive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new DibError("DIB_BAD_ARGUMENT", `${flag} ${value} is not a positive number`);
  }
  return n;
}

/** What a person reads after a boot test: the time to the prompt, each command, the verdict. */
export function formatBootResult(result: BootTestResult, what: string): string[] {
  const lines: string[] = [];
  const mode = `${result.arch === "amd64" ? "" : `${result.arch}, `}${result.firmware === "uefi" ? "UEFI" : "BIOS"}, ${result.accel}${result.accelFallback ? " after KVM made no progress" : ""}`;
  if (result.secondsToPrompt !== null) {
    lines.push(`${what} reached the prompt after ${result.secondsToPrompt} s (${mode})`);
  }
  if (result.accelFallback) {
    lines.push(
      `KVM was given up on (${result.accelFallback.reason}); the guest was restarted under TCG`,
    );
  }
  for (const r of result.commandResults) {
    lines.push(`$ ${r.command}`);
    if (r.output !== "") lines.push(...r.output.split("\n"));
    lines.push(`[exit ${r.exitCode}]`);
  }
  if (result.ok) {
    lines.push(`boot-test passed: ${what}`);
    return lines;
  }
  lines.push(`boot-test FAILED: ${what} (${mode})`);
  if (result.failure) {
    lines.push(`error ${result.failure.code}: ${result.failure.message}`);
    if (result.failure.hint) lines.push(`hint: ${result.failure.hint}`);
  }
  if (result.consoleTail.length === 0) {
    lines.push("the guest printed nothing on its serial console");
  } else {
    lines.push(`last ${result.consoleTail.length} console lines:`);
    lines.push(...result.consoleTail.map((l) => `  | ${l}`));
  }
  return lines;
}

/** One progress line on stderr, so a minute-long TCG boot is not silence. */
export function describeProgress(event: BootProgress): string {
  switch (event.kind) {
    case "started":
      return `boot-test: QEMU started (${event.arch === "amd64" ? "" : `${event.arch}, `}${event.firmware === "uefi" ? "UEFI" : "BIOS"}, ${event.accel}${event.accel === "tcg" ? (isForeignGuest(event.arch) ? ": emulating another architecture, this is slow" : ": no usable KVM, this is slow") : ""})`;
    case "accel-fallback":
      return `boot-test: ${event.reason}; restarting the guest under TCG`;
    case "prompt":
      return `boot-test: prompt after ${event.secondsToPrompt} s`;
    case "logged-in":
      return `boot-test: logged in as ${event.user}`;
    case "command":
      return `boot-test: running command ${event.index}: ${event.command}`;
  }
}

interface BootTestFlags {
  uefi?: boolean;
  arch?: string;
  expect?: string;
  login?: string;
  run?: string[];
  timeout?: string;
  memory: string | number;
  cpus: string | number;
  resize?: string;
  accel: AccelRequest;
  kernel?: string;
  initrd?: string;
  append?: string;
  cdrom?: string;
  console?: boolean;
  json?: boolean;
  trace?: boolean;
}

/** `--arch` in any spelling dib's `-a` takes, as one of the architectures boot-test boots. */
export function guestArch(value: string): GuestArch {
  const name = architecture(value, "--arch").name;
  const known: readonly string[] = GUEST_ARCHES;
  if (!known.includes(name)) {
    throw new DibError(
      "DIB_BAD_ARGUMENT",
      `--arch ${value}: boot-test boots ${GUEST_ARCHES.join(" and ")} guests`,
      {
        hint: "build and boot images of another architecture on a host of that architecture",
      },
    );
  }
  return name as GuestArch;
}

export function registerBootTestCommand(program: Command): void {
  program
    .command("boot-test")
    .description(
      "boot an image in QEMU (the image is never modified), wait for the login prompt, optionally log in on the serial console and run commands",
    )
    .argument("[image]", "the disk image (qcow2, raw, vmdk …); not needed with --kernel or --cdrom")
    .option("--uefi", "boot through OVMF (UEFI) instead of SeaBIOS (arm64: always AAVMF)")
    .option(
      "--arch <arch>",
      "the guest's architecture: amd64 or arm64 (aarch64) (default: read from the image's EFI partition, else the host's)",
    )
    .option("--expect <regex>", "what counts as booted (default: a `login:` prompt)")
    .option("--login <user:password>", "log in on the serial console once the prompt is there")
    .option(
      "--run <command>",
      "run a shell command after logging in (repeatable); the test fails if one exits non-zero",
      // No default value: commander would print `(default: [])` in the help.
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      "--timeout <seconds>",
      "for the whole test: boot, login and commands (default 300 under KVM, 600 under TCG, 1200 for an arm64 guest on amd64)",
    )
    // Numeric defaults, so the help prints `(default: 1024)`, not `(default: "1024")`.
    .addOption(new Option("--memory <MiB>", "guest memory").default(1024))
    .addOption(new Option("--cpus <n>", "guest CPUs").default(1))
    .option("--resize <size>", "boot a temporary overlay grown to SIZE (20G, +5G): tests growroot")
    .addOption(
      new Option(
        "--accel <mode>",
        "kvm, tcg, or auto: KVM when a probe guest's Linux reaches userspace, and a KVM guest that makes no progress is restarted under TCG",
      )
        .choices(["kvm", "tcg", "auto"])
        .default("auto"),
    )
    .option("--kernel <file>", "boot this kernel directly (a ramdisk image's .kernel)")
    .option("--initrd <file>", "the initrd for --kernel")
    .option(
      "--append <cmdline>",
      "the kernel command line for --kernel (default: console=ttyS0,115200; ttyAMA0 on arm64)",
    )
    .option("--cdrom <file.iso>", "boot this ISO from a CD-ROM drive (the iso element's NAME.iso)")
    .option("--console", "show the guest's serial console on stderr while it runs")
    .option("--json", "print the result as JSON")
    .option("-x, --trace", "show the QEMU command line and the KVM probe")
    .action(async (image: string | undefined, flags: BootTestFlags) => {
      const trace = flags.trace === true || program.opts().trace === true;
      const host = new Host({ trace });
      installInterruptHandler(host);
      if (flags.resize !== undefined) checkResize(flags.resize);
      if (flags.initrd && !flags.kernel) {
        throw new DibError("DIB_BAD_ARGUMENT", "--initrd needs --kernel");
      }
      const result = await bootTest({
        host,
        image,
        kernel: flags.kernel
          ? { kernel: flags.kernel, initrd: flags.initrd, append: flags.append }
          : undefined,
        ...(flags.cdrom ? { cdrom: flags.cdrom } : {}),
        uefi: flags.uefi === true,
        ...(flags.arch === undefined ? {} : { arch: guestArch(flags.arch) }),
        expect: flags.expect,
        login: flags.login === undefined ? undefined : parseLogin(flags.login),
        commands: flags.run ?? [],
        ...(flags.timeout === undefined
          ? {}
          : { timeoutMs: parsePositive("--timeout", flags.timeout) * 1000 }),
        memoryMiB: parsePositive("--memory", String(flags.memory)),
        cpus: parsePositive("--cpus", String(flags.cpus)),
        resize: flags.resize,
        accel: flags.accel,
        onConsoleLine: flags.console ? (line) => process.stderr.write(`${line}\n`) : undefined,
        onProgress: flags.json
          ? undefined
          : (event) => process.stderr.write(`${describeProgress(event)}\n`),
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        const what = image ?? flags.kernel ?? flags.cdrom ?? "the guest";
        process.stdout.write(`${formatBootResult(result, what).join("\n")}\n`);
      }
      process.exitCode = result.ok ? 0 : 1;
    });
}
