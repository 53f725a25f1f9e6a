import { execFileSync } from "node:child_process";
import {
  chownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host } from "@dib/host";
import { isRoot, rootOnlyReason } from "@dib/test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StageKey } from "./stage-key.js";
import { StageStore } from "./stage-store.js";

const host = new Host();
let work: string;

function key(n: number, slot = "slot"): StageKey {
  const hex = n.toString(16).padStart(64, "0");
  return { key: hex, slot, stage: "post-install.d", components: { "variable N": String(n) } };
}

function has(tool: string): boolean {
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A small tree with what an image root holds that a careless copy loses. */
function makeTree(root: string): void {
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  mkdirSync(join(root, "dev"));
  mkdirSync(join(root, "home/user"), { recursive: true });
  writeFileSync(join(root, "etc/motd"), "hello\n");
  writeFileSync(join(root, "usr/bin/tool"), "#!/bin/sh\n", { mode: 0o4755 });
  linkSync(join(root, "usr/bin/tool"), join(root, "usr/bin/tool-again"));
  symlinkSync("../etc/motd", join(root, "usr/motd"));
  chownSync(join(root, "home/user"), 4321, 4321);
  writeFileSync(join(root, "home/user/file"), "mine\n", { mode: 0o600 });
  chownSync(join(root, "home/user/file"), 4321, 4322);
  execFileSync("mknod", ["-m", "0666", join(root, "dev/null"), "c", "1", "3"]);
  execFileSync("setfattr", [
    "-n",
    "security.capability",
    "-v",
    "0x0100000200200000000000000000000000000000",
    join(root, "usr/bin/tool"),
  ]);
  execFileSync("setfattr", ["-n", "user.dib", "-v", "kept", join(root, "etc/motd")]);
  execFileSync("setfacl", ["-m", "u:4321:rw", join(root, "etc/motd")]);
  // sparse: 64 MiB of nothing
  writeFileSync(join(root, "sparse"), "");
  truncateSync(join(root, "sparse"), 64 * 1024 * 1024);
  utimesSync(join(root, "etc"), new Date(1_000_000_000_000), new Date(1_000_000_000_000));
}

/** Everything about a tree that restoring must keep, one line per entry. */
function describeTree(root: string): string {
  return execFileSync(
    "sh",
    [
      "-c",
      "cd \"$1\" && find . -printf '%p %M %U:%G %n %s %Y %l %T@\\n' | sort && getfattr -R -d -m - --absolute-names . 2>/dev/null | sort && getfacl -R -p . 2>/dev/null | sort && stat -c '%n %t:%T %i' dev/null usr/bin/tool usr/bin/tool-again | awk '{print $1, $2}'",
      "sh",
      root,
    ],
    { encoding: "utf8" },
  ).replace(/^\. d\S+ (\S+) \d+ \d+ d {2}\S+$/m, ". $1");
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "dib-stage-store-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const tools = ["setfattr", "setfacl", "getfattr", "getfacl", "zstd", "tar"].every(has);
const skipReason = tools ? rootOnlyReason : " (skipped: needs attr, acl, zstd and tar)";

describe.runIf(isRoot && tools)(`StageStore with real trees${skipReason}`, () => {
  it("restores the same tree: owners, modes, xattrs, ACLs, hard links, device nodes, sparse files", async () => {
    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    const tree = join(work, "tree");
    makeTree(tree);
    const stored = await store.store(key(1), tree);
    expect(stored).toMatchObject({ stored: true });
    const into = join(work, "into");
    mkdirSync(into);
    const restored = await store.restore(key(1), into);
    expect(restored).toMatchObject({ hit: true });
    const original = describeTree(tree);
    // the description does cover what matters…
    for (const part of [
      "security.capability=",
      'user.dib="kept"',
      "user:4321:rw",
      "4321:4322",
      "-rwsr-xr-x",
      "crw-rw-rw-",
      "1:3",
    ]) {
      expect(original).toContain(part);
    }
    // …and the restored tree matches it line for line
    expect(describeTree(into)).toBe(original);
    // the hard link is still one inode, the sparse file still has no blocks
    expect(statSync(join(into, "usr/bin/tool")).ino).toBe(
      statSync(join(into, "usr/bin/tool-again")).ino,
    );
    expect(statSync(join(into, "sparse")).blocks).toBeLessThan(64);
  });

  it("stores and restores the files a stage left beside the tree, and checks them too", async () => {
    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    const tree = join(work, "tree");
    makeTree(tree);
    const build = join(work, "build");
    mkdirSync(join(build, "hooks"), { recursive: true });
    writeFileSync(join(build, "hooks/modules-list"), "ext4\n");
    symlinkSync("../x", join(build, "hooks/link"));
    const side = { dir: build, files: ["hooks/modules-list", "hooks/link"] };
    expect(await store.store(key(12), tree, side)).toMatchObject({ stored: true });
    expect(store.readManifest(key(12).key)?.side?.files).toBe(2);
    const into = join(work, "into");
    const sideInto = join(work, "build2");
    mkdirSync(into);
    mkdirSync(join(sideInto, "hooks"), { recursive: true });
    writeFileSync(join(sideInto, "hooks/fresh"), "kept\n");
    expect(await store.restore(key(12), into, sideInto)).toMatchObject({ hit: true });
    expect(readdirSync(join(sideInto, "hooks")).sort()).toEqual(["fresh", "link", "modules-list"]);
    // a damaged side archive is a damaged entry
    truncateSync(store.sidePath(key(12).key), 10);
    const again = join(work, "again");
    mkdirSync(again);
    const result = await store.restore(key(12), again, sideInto);
    expect(result).toMatchObject({ hit: false });
    expect(readdirSync(again)).toEqual([]);
  });

  it("detects a truncated entry, removes it and reports a miss", async () => {
    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    const tree = join(work, "tree");
    makeTree(tree);
    await store.store(key(2), tree);
    const archive = store.archivePath(key(2).key);
    truncateSync(archive, Math.floor(statSync(archive).size / 2));
    const into = join(work, "into");
    mkdirSync(into);
    const result = await store.restore(key(2), into);
    expect(result.hit).toBe(false);
    expect(result.reason).toMatch(/damaged .*removed and rebuilt/);
    expect(readdirSync(into)).toEqual([]);
    expect(store.readManifest(key(2).key)).toBeUndefined();
    // …and the stage stored again is whole
    expect(await store.store(key(2), tree)).toMatchObject({ stored: true });
    mkdirSync(join(work, "again"));
    expect(await store.restore(key(2), join(work, "again"))).toMatchObject({ hit: true });
  });

  it("detects a damaged byte with the size unchanged", async () => {
    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    const tree = join(work, "tree");
    makeTree(tree);
    await store.store(key(3), tree);
    const archive = store.archivePath(key(3).key);
    execFileSync("sh", [
      "-c",
      `printf 'X' | dd of="${archive}" bs=1 seek=100 conv=notrunc status=none`,
    ]);
    mkdirSync(join(work, "into"));
    const result = await store.restore(key(3), join(work, "into"));
    expect(result).toMatchObject({ hit: false });
    expect(result.reason).toMatch(/checksum differs/);
  });

  it("two builds storing one key at once: one stores, neither waits or breaks the entry", async () => {
    const cacheDir = join(work, "cache");
    const a = new StageStore({ cacheDir, host, maxBytes: 1e9 });
    const b = new StageStore({ cacheDir, host, maxBytes: 1e9 });
    const tree = join(work, "tree");
    makeTree(tree);
    const results = await Promise.all([a.store(key(4), tree), b.store(key(4), tree)]);
    expect(results.filter((r) => r.stored)).toHaveLength(1);
    expect(results.find((r) => !r.stored)).toMatchObject({
      reason: expect.stringMatching(/another build is storing this stage|already stored/),
    });
    // nothing half-written is left, and the entry is whole
    expect(readdirSync(join(cacheDir, "stages")).sort()).toEqual([
      `${key(4).key}.json`,
      `${key(4).key}.tar.zst`,
    ]);
    mkdirSync(join(work, "into"));
    expect(await a.restore(key(4), join(work, "into"))).toMatchObject({ hit: true });
  });

  it("two builds storing different keys at once both store", async () => {
    const cacheDir = join(work, "cache");
    const tree = join(work, "tree");
    makeTree(tree);
    const stores = [5, 6].map(() => new StageStore({ cacheDir, host, maxBytes: 1e9 }));
    const results = await Promise.all([
      stores[0]?.store(key(5), tree),
      stores[1]?.store(key(6), tree),
    ]);
    expect(results.every((r) => r?.stored)).toBe(true);
  });

  it("evicts the least recently used entries above DIB_IMAGE_CACHE_MAX, never the one just stored", async () => {
    const cacheDir = join(work, "cache");
    const tree = join(work, "tree");
    makeTree(tree);
    const big = new StageStore({ cacheDir, host, maxBytes: 1e12 });
    await big.store(key(7), tree);
    await big.store(key(8), tree);
    const one = big.readManifest(key(7).key)?.bytes ?? 0;
    // 7 was used last: 8 is the oldest
    const past = new Date(Date.now() - 60_000);
    utimesSync(big.manifestPath(key(8).key), past, past);
    // room for two entries, not three (sizes differ by a few bytes: pax headers carry times)
    const small = new StageStore({ cacheDir, host, maxBytes: Math.floor(one * 2.5) });
    await small.store(key(9), tree);
    expect(
      small
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual([key(7).key, key(9).key]);
    const tiny = new StageStore({ cacheDir, host, maxBytes: 1 });
    expect(tiny.evict(key(9).key)).toEqual([key(7).key]);
    expect(tiny.entries().map((e) => e.key)).toEqual([key(9).key]);
  });

  it("explains a miss by what changed since the slot's last entry", async () => {
    const store = new StageStore({ cacheDir: join(work, "cache"), host, maxBytes: 1e9 });
    const into = join(work, "into");
    mkdirSync(into);
    expect(await store.restore(key(10), into)).toMatchObject({
      hit: false,
      reason: "no stored stage for this element set yet",
    });
    const tree = join(work, "tree");
    makeTree(tree);
    await store.store(key(10), tree);
    expect(await store.restore(key(11), into)).toMatchObject({
      hit: false,
      reason: "since the last stored stage: variable N changed",
    });
  });
});
