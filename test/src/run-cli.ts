import { fileURLToPath } from "node:url";
import { execa, type Options } from "execa";

/** The CLI's source entry point; tests run it through tsx so no build is needed. */
export const cliEntry = fileURLToPath(new URL("../../packages/cli/src/bin.ts", import.meta.url));

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
/** Absolute, so the CLI starts from any working directory (`--import tsx` resolves from the cwd). */
const tsxLoader = import.meta.resolve("tsx");

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `dib-cli ARGS` from source, never throwing on a non-zero exit. */
export async function runCli(args: string[], options: Options = {}): Promise<CliResult> {
  const result = await execa(
    process.execPath,
    ["--conditions=@dib/source", "--import", tsxLoader, cliEntry, ...args],
    { reject: false, cwd: repoRoot, ...options },
  );
  return {
    exitCode: result.exitCode ?? 1,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
  };
}
