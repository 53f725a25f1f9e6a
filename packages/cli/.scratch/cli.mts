// Dev harness until program.ts registers build and internal: dib-cli with just those.
import { Command } from "commander";
import { runBuildCommand } from "../src/commands/build.ts";
import { registerInternalPackageInstallsCommand } from "../src/commands/elements.ts";
import { reportError } from "../src/report-error.ts";

const self = new URL(import.meta.url).pathname;
const cliCommand = [
  process.execPath,
  "--conditions=@dib/source",
  "--import",
  import.meta.resolve("tsx"),
  self,
];
const args = process.argv.slice(2);
try {
  if (args[0] === "internal") {
    const program = new Command("dib-cli").exitOverride();
    registerInternalPackageInstallsCommand(program);
    await program.parseAsync(args, { from: "user" });
  } else {
    process.exitCode = await runBuildCommand(args[0] === "build" ? args.slice(1) : args, {
      env: process.env,
      cwd: process.cwd(),
      stdout: process.stdout,
      isTTY: process.stdout.isTTY === true,
      columns: process.stdout.columns,
      cliCommand,
    });
  }
} catch (error) {
  process.exitCode = reportError(error, args.includes("-x"));
}
