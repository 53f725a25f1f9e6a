import { basename } from "node:path";
import { CommanderError } from "commander";
import { commandTypo } from "./command-typo.js";
import { createProgram } from "./program.js";
import { reportError } from "./report-error.js";

const TOP_LEVEL_FLAGS = new Set(["-h", "--help", "--version", "help"]);
/**
 * Bins that are `dib-cli build` under DIB's own names: ramdisk-image-create adds
 * --ramdisk; diskimage-builder (DIB's YAML front end) takes every operand as an image file.
 */
const BUILD_BINS: Record<string, string[]> = {
  "disk-image-create": [],
  "ramdisk-image-create": ["--ramdisk"],
  "diskimage-builder": ["--image-files"],
};

/**
 * Which command a bin's arguments mean: DIB's own bin names (disk-image-create,
 * ramdisk-image-create) and a first word that is no command are a build.
 */
export function routeArgs(
  invokedAs: string,
  argv: readonly string[],
  commands: ReadonlySet<string>,
): { args: string[]; isBuild: boolean; buildBin: string[] | undefined } {
  const first = argv[0];
  const buildBin = BUILD_BINS[invokedAs.replace(/\.(js|ts)$/, "")];
  const isBuild =
    buildBin !== undefined ||
    (first !== undefined && !commands.has(first) && !TOP_LEVEL_FLAGS.has(first));
  const args =
    isBuild && commands.has("build") ? ["build", ...(buildBin ?? []), ...argv] : [...argv];
  return { args, isBuild, buildBin };
}

/**
 * Entry point for every bin. `disk-image-create ARGS` and `dib-cli ARGS` whose first word
 * is not a command both mean `dib-cli build ARGS`, as DIB users expect;
 * `ramdisk-image-create ARGS` means `dib-cli build --ramdisk ARGS` and
 * `diskimage-builder FILE…` builds the images those YAML files define.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  const invokedAs = basename(argv[1] ?? "dib-cli");
  const commands = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  const first = argv[2];
  const { args, isBuild, buildBin } = routeArgs(invokedAs, argv.slice(2), commands);
  const trace =
    args.includes("-x") || args.includes("--trace") || Number(process.env.DIB_DEBUG_TRACE ?? 0) > 0;
  try {
    if (isBuild && buildBin === undefined && first !== undefined) {
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
