import type { Host } from "./host.js";
import { Ledger } from "./ledger.js";

let installed = false;
let undoing = false;

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * Straight to stderr, not through host.log: a host's log may be the build's progress on
 * stdout (reserved for results and --json events) or shown only with -x, and a person
 * pressing Ctrl-C must see these.
 */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * On SIGINT, SIGTERM or SIGHUP: end the commands still running, undo every open ledger
 * and exit 130/143/129. A second signal while undoing is ignored, so the host is not left
 * half cleaned. Installed once per process: later calls, with their host and onSignal, do
 * nothing.
 */
export function installInterruptHandler(host: Host, onSignal?: (signal: string) => void): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) {
    process.on(signal, () => {
      if (undoing) {
        say(`dib: ${signal} received again; still releasing host resources, please wait`);
        return;
      }
      undoing = true;
      onSignal?.(signal);
      void (async () => {
        await host.killChildren().catch(() => {});
        for (const ledger of Ledger.openLedgers()) {
          try {
            await ledger.undo();
          } catch (error) {
            say(`dib: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        process.exit(EXIT_CODES[signal]);
      })();
    });
  }
}
