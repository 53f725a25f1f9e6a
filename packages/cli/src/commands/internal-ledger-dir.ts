import { existsSync } from "node:fs";
import { join } from "node:path";
import { DibError, LEDGER_FILE } from "@dib/host";

/**
 * The build directory whose ledger a hook's `dib-cli internal …` records in: `--ledger-dir`,
 * else DIB_LEDGER_DIR (the builder sets it for every hook). It must hold the build's
 * ledger already: a hook never starts a ledger of its own, which nothing would undo.
 */
export function buildLedgerDir(
  ledgerDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const dir = ledgerDir || env.DIB_LEDGER_DIR || "";
  if (dir === "" || !existsSync(join(dir, LEDGER_FILE))) {
    throw new DibError(
      "DIB_NO_LEDGER",
      dir === ""
        ? "no build ledger to record in: DIB_LEDGER_DIR is not set"
        : `${dir} has no ${LEDGER_FILE}`,
      {
        hint: "run this from a hook of a dib build (it sets DIB_LEDGER_DIR), or pass --ledger-dir with the build directory",
      },
    );
  }
  return dir;
}
