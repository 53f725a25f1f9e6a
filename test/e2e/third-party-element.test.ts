import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@dib/test";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A third party publishes an element on npm; a user installs it into their project and
 * dib-cli, run there, finds it — ahead of the stock element of the same name.
 */
describe("a third-party element package installed with npm", () => {
  const work = mkdtempSync(join(tmpdir(), "dib-third-party-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("is found and overrides the stock element of the same name", async () => {
    const src = join(work, "acme-debian-minimal");
    mkdirSync(join(src, "root.d"), { recursive: true });
    writeFileSync(
      join(src, "package.json"),
      JSON.stringify({
        name: "@acme/dib-element-debian-minimal",
        version: "1.2.3",
        keywords: ["dib-element"],
        dib: { element: "debian-minimal" },
      }),
    );
    writeFileSync(join(src, "README.md"), "ACME's own Debian base.\n");
    writeFileSync(join(src, "element-provides"), "operating-system\n");
    writeFileSync(join(src, "root.d", "10-acme"), "#!/bin/bash\nset -eu\n", { mode: 0o755 });
    const packed = await execa("npm", ["pack", "--pack-destination", work], { cwd: src });
    const tarball = join(work, packed.stdout.trim().split("\n").at(-1) ?? "");

    const project = join(work, "project");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "project", private: true }),
    );
    await execa("npm", ["install", "--no-audit", "--no-fund", tarball], {
      cwd: project,
      env: { npm_config_update_notifier: "false" },
    });

    const resolved = await runCli(["elements", "resolve", "debian-minimal", "--json"], {
      cwd: project,
      env: { ELEMENTS_PATH: "" },
    });
    expect(resolved.stderr).toBe("");
    expect(resolved.exitCode).toBe(0);
    const elements = JSON.parse(resolved.stdout) as { name: string; path: string }[];
    expect(elements.find((e) => e.name === "debian-minimal")?.path).toBe(
      join(project, "node_modules/@acme/dib-element-debian-minimal"),
    );

    const listed = await runCli(["elements", "list", "--json"], {
      cwd: project,
      env: { ELEMENTS_PATH: "" },
    });
    const entry = (JSON.parse(listed.stdout) as { name: string; source: string }[]).find(
      (e) => e.name === "debian-minimal",
    );
    expect(JSON.stringify(entry)).toContain("@acme/dib-element-debian-minimal@1.2.3");
  }, 180_000);
});
