import { defineProject } from "vitest/config";

const source = { conditions: ["@dib/source"] };

export default defineProject({
  resolve: source,
  ssr: { resolve: source },
  test: {
    name: "hook-library",
    include: ["src/**/*.test.ts"],
    exclude: ["src/**/*.integration.test.ts"],
  },
});
