// Run by the ledger integration test: takes a loop device, a mount on it and a bind mount
// of /proc through the ledger in BUILD_DIR, says "ready", then waits to be killed.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Host, installInterruptHandler, Ledger } from "../index.js";
import { makeExt4Image } from "./make-image.js";

const buildDir = process.argv[2];
if (!buildDir) throw new Error("usage: hold-resources BUILD_DIR");
const host = new Host({ trace: process.env.HOLDER_TRACE === "1" });
if (process.argv.includes("--handle-signals")) {
  installInterruptHandler(host, (signal) => process.stderr.write(`got ${signal}\n`));
}
const ledger = Ledger.open(buildDir, host);
const image = await makeExt4Image(host, buildDir);
const loop = await ledger.attachLoop(image);
mkdirSync(join(buildDir, "mnt"), { recursive: true });
await ledger.mount({ source: loop.detail.device, target: join(buildDir, "mnt") });
mkdirSync(join(buildDir, "mnt", "proc"), { recursive: true });
await ledger.mount({
  source: "/proc",
  target: join(buildDir, "mnt", "proc"),
  bind: true,
  readOnly: true,
});
process.stdout.write("ready\n");
setInterval(() => {}, 1000);
