import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readElementSummary } from "./read-element.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function element(description: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), "dib-summary-"));
  made.push(dir);
  mkdirSync(join(dir, "root.d"));
  writeFileSync(join(dir, "README.md"), "# thing\n\nThe **README** line, cut mid-\nsentence.\n");
  const manifest = { name: "@dib-elements/thing", version: "1.0.0", description };
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
  const source = {
    kind: "package" as const,
    packageName: "@dib-elements/thing",
    version: "1.0.0",
    packageDir: dir,
  };
  return { name: "thing", dir, source };
}

describe("readElementSummary", () => {
  it("takes an element package's description", async () => {
    expect(await readElementSummary(element("Does the thing, in one sentence."))).toBe(
      "Does the thing, in one sentence.",
    );
  });

  it("falls back to the README's first line without a description, or outside a package", async () => {
    expect(await readElementSummary(element(undefined))).toBe("The **README** line, cut mid-");
    const { name, dir } = element("ignored for an ELEMENTS_PATH element");
    expect(await readElementSummary({ name, dir })).toBe("The **README** line, cut mid-");
  });
});
