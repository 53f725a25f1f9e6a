import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const built = existsSync(join(repo, "packages/cli/dist/bin.js"));

describe.runIf(built)(
  `the packed packages${built ? "" : " (skipped: run `pnpm build` first)"}`,
  () => {
    const dest = mkdtempSync(join(tmpdir(), "dib-pack-test-"));
    afterAll(() => rmSync(dest, { recursive: true, force: true }));

    it("pack with every element hook script still executable", async () => {
      const result = await execa("node", ["scripts/check-pack.mjs", dest], {
        cwd: repo,
        reject: false,
      });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("dib-cli-");
    }, 180_000);

    it("run as a user's `npx dib-cli --help` would", async () => {
      const tarballs = (await execa("ls", [dest])).stdout
        .split("\n")
        .filter((f) => f.endsWith(".tgz"));
      const args = [
        "-y",
        ...tarballs.map((t) => `--package=${join(dest, t)}`),
        "dib-cli",
        "--help",
      ];
      const cache = mkdtempSync(join(tmpdir(), "dib-npx-cache-"));
      try {
        const result = await execa("npx", args, {
          cwd: tmpdir(),
          reject: false,
          env: { npm_config_cache: cache, npm_config_update_notifier: "false" },
        });
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toContain("Usage: dib-cli");
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    }, 300_000);
  },
);
