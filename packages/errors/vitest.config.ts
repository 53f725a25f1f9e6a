import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@dib/source"] },
  ssr: { resolve: { conditions: ["@dib/source"] } },
  test: {
    name: "errors",
    include: ["src/**/*.test.ts"],
    exclude: ["src/**/*.integration.test.ts"],
  },
});
