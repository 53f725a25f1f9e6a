import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `dib-cli` wrapper outside hooks call (package-installs runs `dib-cli internal …`). */
export function cliWrapperScript(command: readonly string[]): string {
  return `#!/bin/sh\n# dib-cli for this build's hooks (written by @dib/builder)\nexec ${command
    .map(shellWord)
    .join(" ")} "$@"\n`;
}

/** Writes `<binDir>/dib-cli`, which runs `command` with the hook's arguments. */
export function writeCliWrapper(binDir: string, command: readonly string[]): string {
  const file = join(binDir, "dib-cli");
  writeFileSync(file, cliWrapperScript(command));
  chmodSync(file, 0o755);
  return file;
}
