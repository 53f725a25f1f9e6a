import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@dib/source"] },
  test: { include: ["src/**/*.test.ts"], exclude: ["src/**/*.integration.test.ts"] },
});
