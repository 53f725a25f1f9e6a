import { probeCapabilities } from "@dib/block-device";
import { kvmStatus } from "@dib/boot-test";
import type { Host } from "@dib/host";
import { Command } from "commander";
import { registerBlockDeviceCommand } from "./commands/block-device.js";
import { registerBootTestCommand } from "./commands/boot-test.js";
import { registerBuildCommand } from "./commands/build.js";
import { registerCleanupCommand } from "./commands/cleanup.js";
import { registerDoctorCommand } from "./commands/doctor.js";
import {
  registerElementInfoCommand,
  registerElementsCommand,
  registerInternalPackageInstallsCommand,
} from "./commands/elements.js";
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
    kvm: (host: Host) => kvmStatus(host),
  });
  registerCleanupCommand(program);
  registerElementsCommand(program);
  registerElementInfoCommand(program);
  registerInternalPackageInstallsCommand(program);
  registerBlockDeviceCommand(program);
  return program;
}
