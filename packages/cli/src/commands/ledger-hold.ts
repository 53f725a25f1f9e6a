import {
  CONTAINER_RUNTIMES,
  type ContainerRuntime,
  DibError,
  Host,
  Ledger,
  RUNTIME_OBJECT_KINDS,
  type RuntimeObjectKind,
} from "@dib/host";
import type { Command } from "commander";
import { internalGroup } from "./elements.js";
import { buildLedgerDir } from "./internal-ledger-dir.js";

interface LedgerObjectOptions {
  /** The build directory (holds ledger.jsonl); else DIB_LEDGER_DIR. */
  ledgerDir?: string | undefined;
  runtime: string;
  env?: NodeJS.ProcessEnv;
}

/** The checked runtime, object kind and the ledger of the build that runs the hook. */
function target(
  object: string,
  options: LedgerObjectOptions,
): { dir: string; runtime: ContainerRuntime; object: RuntimeObjectKind } {
  if (!(CONTAINER_RUNTIMES as readonly string[]).includes(options.runtime)) {
    throw new DibError(
      "DIB_BAD_RUNTIME",
      `--runtime ${options.runtime} is not a container runtime`,
      {
        hint: `use one of ${CONTAINER_RUNTIMES.join(", ")}`,
      },
    );
  }
  if (!(RUNTIME_OBJECT_KINDS as readonly string[]).includes(object)) {
    throw new DibError("DIB_BAD_RUNTIME_OBJECT", `${object} is not a runtime object kind`, {
      hint: `use one of ${RUNTIME_OBJECT_KINDS.join(", ")}`,
    });
  }
  const dir = buildLedgerDir(options.ledgerDir, options.env);
  return {
    dir,
    runtime: options.runtime as ContainerRuntime,
    object: object as RuntimeObjectKind,
  };
}

/**
 * Records in the build's ledger a container or image a hook is about to make, so the
 * build's undo and `dib-cli cleanup` remove it even after a `kill -9`.
 */
async function holdRuntimeObject(
  object: string,
  name: string,
  options: LedgerObjectOptions & { host: Host },
): Promise<void> {
  const t = target(object, options);
  const ledger = Ledger.open(t.dir, options.host);
  try {
    await ledger.holdRuntimeObject(t.runtime, t.object, name);
  } finally {
    ledger.close();
  }
}

/** Drops the ledger's record of a container or image the hook removed itself. */
function releaseRuntimeObject(
  object: string,
  name: string,
  options: LedgerObjectOptions & { host: Host },
): number {
  const t = target(object, options);
  const ledger = Ledger.open(t.dir, options.host);
  try {
    return ledger.forgetRuntimeObject(t.runtime, t.object, name);
  } finally {
    ledger.close();
  }
}

/**
 * `dib-cli internal ledger-hold --runtime R container|image NAME` and `ledger-release …`:
 * what a hook runs before it makes a container or image, and after it removed it itself.
 */
export function registerInternalLedgerCommands(program: Command): void {
  const group = internalGroup(program);
  const common = (command: Command) =>
    command
      .requiredOption("--runtime <runtime>", CONTAINER_RUNTIMES.join(", "))
      .option("--ledger-dir <dir>", "the build directory (default: $DIB_LEDGER_DIR)")
      .argument("<object>", RUNTIME_OBJECT_KINDS.join(" or "))
      .argument("<name>", "its name or id, as the runtime knows it");
  common(
    group
      .command("ledger-hold")
      .description("record in the build's ledger a container or image about to be made"),
  ).action(async (object: string, name: string, opts: { runtime: string; ledgerDir?: string }) => {
    const host = new Host({ trace: program.opts().trace === true });
    await holdRuntimeObject(object, name, { ...opts, host });
  });
  common(
    group
      .command("ledger-release")
      .description("drop the ledger's record of a container or image removed by the hook"),
  ).action((object: string, name: string, opts: { runtime: string; ledgerDir?: string }) => {
    const host = new Host({ trace: program.opts().trace === true });
    releaseRuntimeObject(object, name, { ...opts, host });
  });
}
