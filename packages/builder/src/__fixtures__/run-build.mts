// Runs build() in its own process for tests that signal it: options as JSON in argv[2],
// every event printed as one JSON line.
import { build } from "@dib/builder";
import { Host } from "@dib/host";

const options = JSON.parse(process.argv[2] ?? "{}");
try {
  const result = await build(options, {
    host: new Host(),
    onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
  });
  process.stdout.write(`${JSON.stringify({ type: "result", buildDir: result.buildDir })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ type: "error", message: String(error) })}\n`);
  process.exitCode = 1;
}
