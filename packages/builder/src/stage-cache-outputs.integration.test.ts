import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type StageKey, StageStore } from "@dib/cache";
import { Host } from "@dib/host";
import { isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectOutputs, placeOutputs } from "./stage-cache-outputs.js";

const host = new Host();
let work: string;
const key: StageKey = {
  key: "e".repeat(64),
  slot: "slot",
  stage: "output",
  components: { "setting imageTypes": "x" },
};

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "dib-output-cache-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe.runIf(isRoot)(`the output cache's files${rootOnlyReason}`, () => {
  it("stores an image with its checksum files, element outputs and manifest folder; puts them back under another name", async () => {
    const first = join(work, "first");
    mkdirSync(join(first, "img.d"), { recursive: true });
    const started = Date.now();
    writeFileSync(join(first, "img.qcow2"), "QFI image bytes");
    writeFileSync(join(first, "img.qcow2.sha256"), "abc  img.qcow2\n");
    writeFileSync(join(first, "img.initramfs"), "initramfs");
    writeFileSync(join(first, "img.d/dib_arguments"), "-o img\n");
    // an older file of another build beside them is not taken
    writeFileSync(join(first, "img.kernel"), "old");
    const past = new Date(started - 3_600_000);
    utimesSync(join(first, "img.kernel"), past, past);
    const found = collectOutputs(
      [
        {
          type: "qcow2",
          path: join(first, "img.qcow2"),
          bytes: 15,
          checksums: { sha256: "abc" },
        },
      ],
      { cwd: first, imageName: "img", overwriteOldImage: false },
      started,
    );
    if ("reason" in found) throw new Error(found.reason);
    expect(found.stored.names.sort()).toEqual([
      "img.d",
      "img.initramfs",
      "img.qcow2",
      "img.qcow2.sha256",
    ]);
    expect(found.stored.outputs.map((o) => o.type)).toEqual(["qcow2", "initramfs"]);

    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    const stored = await store.store(key, found.dir, undefined, {
      files: found.stored.names,
      level: 1,
      outputs: found.stored,
    });
    expect(stored).toMatchObject({ stored: true });
    const manifest = store.readManifest(key.key);
    expect(manifest?.outputs).toEqual(found.stored);

    // the second build writes "out/new"; an image of that name is already there
    const second = join(work, "second");
    mkdirSync(join(second, "out"), { recursive: true });
    writeFileSync(join(second, "out/new.qcow2"), "older image");
    const placed = await placeOutputs(host, store, key, found.stored, {
      cwd: second,
      imageName: "out/new",
      overwriteOldImage: false,
    });
    if ("miss" in placed) throw new Error(placed.miss);
    expect(placed.outputs).toEqual([
      {
        type: "qcow2",
        path: join(second, "out/new.qcow2"),
        bytes: 15,
        checksums: { sha256: "abc" },
      },
      { type: "initramfs", path: join(second, "out/new.initramfs"), bytes: 9, checksums: {} },
    ]);
    const names = readdirSync(join(second, "out")).sort();
    // the older image moved aside with a date; no temporary folder is left
    expect(names.filter((n) => /^new-\d{4}\.\d\d\.\d\d-.*\.qcow2$/.test(n))).toHaveLength(1);
    expect(names.filter((n) => !n.startsWith("new-"))).toEqual([
      "new.d",
      "new.initramfs",
      "new.qcow2",
      "new.qcow2.sha256",
    ]);
    expect(readFileSync(join(second, "out/new.qcow2"), "utf8")).toBe("QFI image bytes");
    // the checksum file names the new file
    expect(readFileSync(join(second, "out/new.qcow2.sha256"), "utf8")).toBe("abc  new.qcow2\n");
    expect(readFileSync(join(second, "out/new.d/dib_arguments"), "utf8")).toBe("-o img\n");
  });

  it("a truncated entry is a miss, removed, and nothing is put in place", async () => {
    const first = join(work, "first");
    mkdirSync(first);
    writeFileSync(join(first, "img.tar"), "x".repeat(100_000));
    const found = collectOutputs(
      [{ type: "tar", path: join(first, "img.tar"), bytes: 100_000, checksums: {} }],
      { cwd: first, imageName: "img", overwriteOldImage: true },
      Date.now(),
    );
    if ("reason" in found) throw new Error(found.reason);
    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    await store.store(key, found.dir, undefined, { files: found.stored.names });
    truncateSync(store.archivePath(key.key), 20);
    const second = join(work, "second");
    mkdirSync(second);
    const placed = await placeOutputs(host, store, key, found.stored, {
      cwd: second,
      imageName: "img",
      overwriteOldImage: true,
    });
    expect(placed).toEqual({ miss: expect.stringMatching(/damaged .*removed and rebuilt/) });
    expect(readdirSync(second)).toEqual([]);
    expect(store.readManifest(key.key)).toBeUndefined();
  });

  it("an output that is not a file beside the image is not stored", () => {
    expect(
      collectOutputs(
        [{ type: "docker", path: "repo:tag", bytes: 0, checksums: {} }],
        { cwd: work, imageName: "img", overwriteOldImage: true },
        Date.now(),
      ),
    ).toEqual({ reason: "the docker output repo:tag is not a file beside the image" });
  });
});
