import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { datedName, imageTimestamp, moveOldImageAside } from "./old-image.js";

const when = new Date(2024, 4, 1, 9, 8, 7);
const made: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "dib-old-"));
  made.push(dir);
  return dir;
}

describe("old images", () => {
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it("stamps a renamed image NAME-YYYY.MM.DD-HH.MM.SS.<ext>, its checksums alike", () => {
    expect(imageTimestamp(when)).toBe("2024.05.01-09.08.07");
    expect(datedName("/o/img.qcow2", "/o/img", when)).toBe("/o/img-2024.05.01-09.08.07.qcow2");
    expect(datedName("/o/img.qcow2.md5", "/o/img", when)).toBe(
      "/o/img-2024.05.01-09.08.07.qcow2.md5",
    );
  });

  it("moves an existing output and its checksum files aside, named for when it was made", async () => {
    const dir = scratch();
    for (const f of ["img.tar", "img.tar.md5", "img.tar.sha256", "img.qcow2"])
      writeFileSync(join(dir, f), f);
    utimesSync(join(dir, "img.tar"), when, when);
    const renamed = await moveOldImageAside(join(dir, "img.tar"), join(dir, "img"), false);
    expect(renamed.map((r) => r.to.slice(dir.length + 1))).toEqual([
      "img-2024.05.01-09.08.07.tar",
      "img-2024.05.01-09.08.07.tar.md5",
      "img-2024.05.01-09.08.07.tar.sha256",
    ]);
    expect(readdirSync(dir).sort()).toEqual([
      "img-2024.05.01-09.08.07.tar",
      "img-2024.05.01-09.08.07.tar.md5",
      "img-2024.05.01-09.08.07.tar.sha256",
      "img.qcow2",
    ]);
  });

  it("with OVERWRITE_OLD_IMAGE leaves the image to be replaced and drops its stale checksums", async () => {
    const dir = scratch();
    for (const f of ["img.tar", "img.tar.md5"]) writeFileSync(join(dir, f), f);
    expect(await moveOldImageAside(join(dir, "img.tar"), join(dir, "img"), true)).toEqual([]);
    expect(readdirSync(dir)).toEqual(["img.tar"]);
  });

  it("does nothing when there is no older output", async () => {
    const dir = scratch();
    expect(await moveOldImageAside(join(dir, "img.tar"), join(dir, "img"), false)).toEqual([]);
  });
});
