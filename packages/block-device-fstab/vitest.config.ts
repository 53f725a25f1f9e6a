import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@dib/source"] },
  // vitest resolves packages for Node through the SSR settings: the source condition goes there too.
  ssr: { resolve: { conditions: ["@dib/source"] } },
  test: {
    name: "block-device-fstab",
    include: ["src/**/*.test.ts"],
    exclude: ["src/**/*.integration.test.ts"],
  },
});
