import { existsSync } from "node:fs";
import { join } from "node:path";
import { DibError, describeResource, Host, LEDGER_FILE, Ledger, safeRemove } from "@dib/host";
import type { Command } from "commander";

export interface CleanupResult {
  released: string[];
  removed: boolean;
  /** The directory was not there (removed by an earlier cleanup --remove): nothing to do. */
  missing?: boolean;
}

/**
 * Replays the ledger a killed build left behind: everything it still holds is released,
 * newest first. Refuses while the build that wrote it is still running (its pid and start
 * time, so a reused pid does not count). Running it again is harmless: a released ledger
 * has nothing left to release, and a directory already removed is nothing to do.
 */
export async function cleanupBuildDir(
  buildDir: string,
  options: { host: Host; force?: boolean; remove?: boolean },
): Promise<CleanupResult> {
  if (!existsSync(buildDir)) return { released: [], removed: false, missing: true };
  if (!existsSync(join(buildDir, LEDGER_FILE))) {
    throw new DibError("DIB_NO_LEDGER", `${buildDir} has no ${LEDGER_FILE}`, {
      hint: "pass the build directory of a dib build (it is printed at the start of a build and on failure)",
    });
  }
  const ledger = Ledger.open(buildDir, options.host);
  const held = ledger.held();
  const owners = ledger.liveWriters();
  if (owners.length > 0 && !options.force) {
    ledger.close();
    throw new DibError(
      "DIB_BUILD_RUNNING",
      `the build that owns ${buildDir} is still running (pid ${owners.join(", ")})`,
      {
        hint: `stop it first (kill ${owners.join(" ")}: it releases everything itself on SIGTERM or Ctrl-C); --force cleans up under a running build`,
        details: { pids: owners },
      },
    );
  }
  for (const entry of held) options.host.debug(`releasing ${describeResource(entry.resource)}`);
  const report = await ledger.undo();
  let removed = false;
  if (options.remove) {
    safeRemove(buildDir);
    removed = true;
  }
  return { released: report.released, removed };
}

export function registerCleanupCommand(program: Command): void {
  program
    .command("cleanup")
    .description("release every loop device, mount and chroot process a killed build left behind")
    .argument("<build-dir>", "the build directory (holds ledger.jsonl)")
    .option("--force", "clean up even if the owning process still seems to run")
    .option("--remove", "also delete the build directory afterwards")
    .action(async (buildDir: string, opts: { force?: boolean; remove?: boolean }) => {
      const host = new Host({ trace: program.opts().trace === true });
      const result = await cleanupBuildDir(buildDir, {
        host,
        force: opts.force,
        remove: opts.remove,
      });
      if (result.missing) {
        process.stdout.write(`nothing to clean up: ${buildDir} does not exist\n`);
        return;
      }
      if (result.released.length === 0) process.stdout.write(`nothing held by ${buildDir}\n`);
      for (const r of result.released) process.stdout.write(`released ${r}\n`);
      if (result.removed) process.stdout.write(`removed ${buildDir}\n`);
    });
}
