import { probeCapabilities } from "@dib/block-device";
import { kvmStatus } from "@dib/boot-test";
import type { Host } from "@dib/host";
import { Command, type Option } from "commander";
import { registerBlockDeviceCommand } from "./commands/block-device.js";
import { registerBootTestCommand } from "./commands/boot-test.js";
import { registerBuildCommand } from "./commands/build.js";
import { registerCleanupCommand } from "./commands/cleanup.js";
import { registerDoctorCommand } from "./commands/doctor.js";
import {
  registerElementInfoCommand,
  registerElementsCommand,
  registerInternalPackageInstallsCommand,
  registerInternalSvcMapCommand,
} from "./commands/elements.js";
import { registerInternalMountCommands } from "./commands/internal-mount.js";
import { registerInternalLedgerCommands } from "./commands/ledger-hold.js";
import { version } from "./version.js";

/** The dib-cli command tree. `build` is the default command (see bin.ts). */
export function createProgram(): Command {
  const program = new Command("dib-cli")
    .description(
      "Build customised, bootable operating-system images from diskimage-builder elements.\n" +
        "Run `dib-cli build --help` (or `dib-cli ELEMENT… [options]`) for the build options.",
    )
    .version(version, "--version")
    .showHelpAfterError()
    .exitOverride();
  registerBuildCommand(program);
  registerBootTestCommand(program);
  registerDoctorCommand(program, {
    capabilities: async (host: Host) => ({ ...(await probeCapabilities(host)) }),
    kvm: (host: Host) => kvmStatus(host, undefined, { fresh: true }),
  });
  registerCleanupCommand(program);
  registerElementsCommand(program);
  registerElementInfoCommand(program);
  registerInternalPackageInstallsCommand(program);
  registerInternalSvcMapCommand(program);
  registerInternalLedgerCommands(program);
  registerInternalMountCommands(program);
  registerBlockDeviceCommand(program);
  checkRequiredOptionsLast(program);
  return program;
}

/**
 * Commander reports a missing required option before an unknown one, so a mistyped
 * `--buld-dir` is reported as a missing `--build-dir`. The required options are checked
 * here instead, just before the action runs: after unknown options and missing arguments.
 */
function checkRequiredOptionsLast(program: Command): void {
  const required = new Map<Command, Option[]>();
  const walk = (command: Command) => {
    const options = command.options.filter((o) => o.mandatory);
    for (const option of options) option.makeOptionMandatory(false);
    if (options.length > 0) required.set(command, options);
    for (const sub of command.commands) walk(sub);
  };
  walk(program);
  program.hook("preAction", (_program, action) => {
    for (let command: Command | null = action; command; command = command.parent) {
      for (const option of required.get(command) ?? []) {
        if (command.getOptionValue(option.attributeName()) === undefined) {
          command.error(`error: required option '${option.flags}' not specified`, {
            code: "commander.missingMandatoryOptionValue",
          });
        }
      }
    }
  });
}
