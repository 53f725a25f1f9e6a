import { defineConfig, type Options } from "tsup";

/** The one build every package shares: ESM for Node 20 with type declarations. */
export function packageBuild(entry: string[] = ["src/index.ts"], extra: Options = {}) {
  return defineConfig({
    entry,
    format: ["esm"],
    target: "node20",
    platform: "node",
    dts: { entry: entry.filter((e) => !e.endsWith("bin.ts")) },
    clean: true,
    sourcemap: true,
    splitting: false,
    ...extra,
  });
}
