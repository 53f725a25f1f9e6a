import { basename } from "node:path";
import { CommanderError } from "commander";
import { commandTypo } from "./command-typo.js";
import { createProgram } from "./program.js";
import { reportError } from "./report-error.js";

const TOP_LEVEL_FLAGS = new Set(["-h", "--help", "--version", "help"]);

/**
 * Entry point for both bins. `disk-image-create ARGS` and `dib-cli ARGS` whose first word
 * is not a command both mean `dib-cli build ARGS`, as DIB users expect.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  const invokedAs = basename(argv[1] ?? "dib-cli");
  let args = argv.slice(2);
  const commands = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const first = args[0];
  const isBuild =
    invokedAs === "disk-image-create" ||
    (first !== undefined && !commands.has(first) && !TOP_LEVEL_FLAGS.has(first));
  if (isBuild && commands.has("build")) args = ["build", ...args];
  const trace =
    args.includes("-x") || args.includes("--trace") || Number(process.env.DIB_DEBUG_TRACE ?? 0) > 0;
  try {
    if (isBuild && invokedAs !== "disk-image-create" && first !== undefined) {
      const visible = program
        .createHelp()
        .visibleCommands(program)
        .map((c) => c.name());
      const typo = await commandTypo(first, visible);
      if (typo) throw typo;
    }
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode;
    }
    return reportError(error, trace);
  }
}
