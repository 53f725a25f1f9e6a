import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const source = { conditions: ["@dib/source"] };
const ssr = { resolve: { conditions: ["@dib/source"], externalConditions: ["@dib/source"] } };

export default defineConfig({
  resolve: source,
  ssr,
  test: {
    reporters: ["default", here("./scripts/closing-line-reporter.ts")],
    projects: [
      here("./packages/*/vitest.config.ts"),
      {
        resolve: source,
        ssr,
        test: {
          name: "integration",
          // after the unit tests, alone: these attach loop devices and mount
          sequence: { groupOrder: 1 },
          root: here("."),
          include: ["packages/*/src/**/*.integration.test.ts", "test/elements/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve: source,
        ssr,
        test: {
          name: "e2e",
          // last and alone: real builds and boots need the whole machine
          sequence: { groupOrder: 2 },
          root: here("."),
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
