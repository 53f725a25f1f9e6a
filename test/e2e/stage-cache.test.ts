import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { isRoot, rootOnlyReason, runCli } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectHostIntact, fixtureElements, type HostFacts, hostFacts } from "./build-harness.js";

/*
 * The stage cache end to end: a tiny image (the minbase tree unpacked by the minbase-os
 * fixture, plus a probe element written here) built several times into one
 * DIB_IMAGE_CACHE, with a fake flat mirror on 127.0.0.1 whose InRelease the test changes.
 */

const minbaseTar = process.env.DIB_TEST_MINBASE_TAR ?? "/var/cache/dib-dev/bookworm-minbase.tar";
const ready = isRoot && existsSync(minbaseTar);

let work: string;
let server: Server;
let mirror: string;
let inRelease = "Origin: dib-test\nDate: Sat, 05 Dec 2026 10:00:00 UTC\n";
let facts: HostFacts;

const PROBE_INSTALL = `#!/bin/bash
# Leaves what a careless copy of a tree would lose: owners, a hard link, a device node.
set -eu
set -o pipefail
echo "probe \${STAGE_PROBE_WORD:-one}" >/etc/stage-probe
ln -f /etc/stage-probe /etc/stage-probe.link
chown 4321:4322 /etc/stage-probe
mknod -m 0600 /etc/stage-probe.null c 1 3
chmod 4750 /etc/stage-probe.link
`;
const PROBE_FINALISE = (word: string) => `#!/bin/bash
set -eu
echo "final ${word}" >/etc/stage-probe-final
# written beside the tree by extra-data.d: must be there after a restored stage too
cp /tmp/in_target.d/stage-probe-list /etc/stage-probe-list
`;
/** Like DIB's dracut-regenerate: a list made outside in extra-data.d, read in finalise.d. */
const PROBE_EXTRA = `#!/bin/bash
set -eu
cat "\${STAGE_PROBE_FILE:-/dev/null}" >"$TMP_HOOKS_PATH/stage-probe-list"
echo listed >>"$TMP_HOOKS_PATH/stage-probe-list"
`;

function writeProbe(dir: string, install: string, finalise: string): void {
  const element = join(dir, "stage-probe");
  mkdirSync(join(element, "install.d"), { recursive: true });
  mkdirSync(join(element, "finalise.d"), { recursive: true });
  mkdirSync(join(element, "extra-data.d"), { recursive: true });
  writeFileSync(join(element, "extra-data.d/50-stage-probe"), PROBE_EXTRA);
  chmodSync(join(element, "extra-data.d/50-stage-probe"), 0o755);
  writeFileSync(join(element, "install.d/50-stage-probe"), install);
  writeFileSync(join(element, "finalise.d/50-stage-probe"), finalise);
  chmodSync(join(element, "install.d/50-stage-probe"), 0o755);
  chmodSync(join(element, "finalise.d/50-stage-probe"), 0o755);
}

interface Event {
  type: string;
  phase?: string;
  stage?: string;
  result?: string;
  reason?: string;
  changes?: string[];
}

async function build(
  name: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
  image = "image",
) {
  const out = join(work, "trees", name);
  mkdirSync(dirname(join(work, "out", image)), { recursive: true });
  const result = await runCli(
    [
      "-n",
      "--json",
      "-t",
      "tar",
      "-o",
      join(work, "out", image),
      ...extraArgs,
      "minbase-os",
      "stage-probe",
    ],
    {
      env: {
        ELEMENTS_PATH: `${join(work, "elements")}:${fixtureElements}`,
        TMP_DIR: join(work, "tmp"),
        DIB_IMAGE_CACHE: join(work, "cache"),
        DIB_TEST_MINBASE_TAR: minbaseTar,
        DIB_DISTRIBUTION_MIRROR: mirror,
        ...env,
      },
      timeout: 600_000,
    },
  );
  expect(result.exitCode, result.stderr + result.stdout.slice(-3000)).toBe(0);
  const events = result.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Event);
  const archive = join(work, "out", `${image}.tar`);
  const cache = events.filter((e) => e.type === "stage-cache" && e.stage !== "output");
  /** What the output cache (the finished tar of an identical build) did. */
  const output = events.filter((e) => e.type === "stage-cache" && e.stage === "output");
  const ran = events.filter((e) => e.type === "phase-start").map((e) => e.phase);
  const skipped = events.filter((e) => e.type === "phase-skip").map((e) => e.phase);
  /** One file of the image, read from its tar without unpacking the rest. */
  const file = (rel: string) =>
    execFileSync("tar", ["-xOf", archive, `./${rel}`], { encoding: "utf8" });
  /** The whole tree, described (unpacked for a moment, then removed: trees are large). */
  const describe = () => {
    mkdirSync(out, { recursive: true });
    try {
      execFileSync("tar", ["-xf", archive, "-C", out, "--numeric-owner", "--same-owner"]);
      return describeTree(out);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  };
  const sha256 = () => execFileSync("sha256sum", [archive], { encoding: "utf8" }).split(" ")[0];
  return { cache, output, ran, skipped, file, describe, sha256, archive };
}

/** Every entry of a tree: path, type and mode, owner, link count, size, link target, content digest. */
function describeTree(root: string): string {
  return execFileSync(
    "sh",
    [
      "-c",
      `cd "$1" && find . -printf '%p %M %U:%G %n %s %l\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum && stat -c '%n %t:%T' etc/stage-probe.null`,
      "sh",
      root,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
}

beforeAll(async () => {
  if (!ready) return;
  facts = hostFacts();
  work = mkdtempSync("/var/tmp/dib-stage-cache-");
  mkdirSync(join(work, "tmp"));
  writeProbe(join(work, "elements"), PROBE_INSTALL, PROBE_FINALISE("one"));
  server = createServer((req, res) => {
    if (req.url === "/repo/InRelease") res.writeHead(200).end(inRelease);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo`;
});

afterAll(async () => {
  if (!ready) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(work, { recursive: true, force: true });
  expectHostIntact(facts);
});

const STAGE_STEPS = ["root.d", "extra-data.d", "pre-install.d", "install.d", "post-install.d"];

describe.runIf(ready)(`the stage cache${rootOnlyReason}`, () => {
  it("stores the stage on the first build, reuses it on the second with the same tree", async () => {
    const first = await build("first");
    expect(first.cache.map((e) => [e.result, e.reason])).toEqual([
      ["miss", "no stored stage for this element set yet"],
      ["stored", expect.stringMatching(/^stored in /)],
    ]);
    expect(first.ran).toEqual(expect.arrayContaining(STAGE_STEPS));
    expect(first.output.map((e) => [e.result, e.reason])).toEqual([
      ["miss", "no stored output for this element set yet"],
      ["stored", expect.stringMatching(/^stored in /)],
    ]);

    // -u changes the outputs (a qcow2 would not be compressed), not the tree: the stage is
    // reused, the image is not
    const second = await build("second", ["-u"], {}, "second/image");
    expect(second.output[0]).toMatchObject({
      result: "miss",
      changes: ["setting compress changed"],
    });
    expect(second.cache).toEqual([
      expect.objectContaining({
        result: "hit",
        reason: expect.stringMatching(/checksum verified/),
      }),
    ]);
    expect(second.skipped).toEqual([...STAGE_STEPS, "stage-store"]);
    expect(second.ran).not.toContain("install.d");
    // post-root.d and the finalise phases still run
    expect(second.ran).toEqual(expect.arrayContaining(["post-root.d", "finalise.d", "cleanup.d"]));
    const tree = first.describe();
    expect(tree).toContain("./etc/stage-probe -rwsr-x--- 4321:4322 2 ");
    expect(tree).toContain("./etc/stage-probe.null crw------- 0:0 1 0");
    expect(second.describe()).toBe(tree);
  });

  it("an identical build copies the stored outputs and builds nothing", async () => {
    // the same image name in another folder (the name is written into the image)
    const again = await build("again", ["-u"], {}, "again/image");
    expect(again.output.map((e) => e.result)).toEqual(["hit"]);
    expect(again.cache).toEqual([]);
    expect(again.ran).toEqual(expect.arrayContaining(["stage-restore", "workspace-cleanup"]));
    for (const step of [...STAGE_STEPS, "finalise.d", "tree-outputs", "output-store"]) {
      expect(again.ran).not.toContain(step);
      expect(again.skipped).toContain(step);
    }
    // the very bytes the second build wrote
    const second = join(work, "out", "second", "image.tar");
    expect(again.sha256()).toBe(
      execFileSync("sha256sum", [second], { encoding: "utf8" }).split(" ")[0],
    );
  });

  it("a truncated stored output is found, removed and built again", async () => {
    const stages = join(work, "cache", "stages");
    for (const name of execFileSync("ls", [stages], { encoding: "utf8" }).split("\n")) {
      if (!name.endsWith(".json")) continue;
      const manifest = JSON.parse(execFileSync("cat", [join(stages, name)], { encoding: "utf8" }));
      if (manifest.stage !== "output") continue;
      execFileSync("truncate", ["-s", "100", join(stages, name.replace(/\.json$/, ".tar.zst"))]);
    }
    const rebuilt = await build("truncated", ["-u"], {}, "truncated/image");
    expect(rebuilt.output.map((e) => [e.result, e.reason])).toEqual([
      ["miss", expect.stringMatching(/damaged .*removed and rebuilt/)],
      ["stored", expect.stringMatching(/^stored in /)],
    ]);
    expect(rebuilt.cache.map((e) => e.result)).toEqual(["hit"]);
    expect(rebuilt.ran).toContain("finalise.d");
  });

  it("still reuses it when only a finalise.d script changed", async () => {
    writeProbe(join(work, "elements"), PROBE_INSTALL, PROBE_FINALISE("two"));
    // -x and DIB_DEBUG_TRACE trace the build; they do not change what it builds
    const warm = await build("warm", ["-x"], { DIB_DEBUG_TRACE: "1" });
    expect(warm.cache.map((e) => e.result)).toEqual(["hit"]);
    // the finished image is not: a finalise.d script feeds it
    expect(warm.output[0]).toMatchObject({
      result: "miss",
      changes: expect.arrayContaining(["element stage-probe: finalise.d/50-stage-probe changed"]),
    });
    expect(warm.file("etc/stage-probe-final")).toBe("final two\n");
    expect(warm.file("etc/stage-probe-list")).toBe("listed\n");
  });

  it("builds it again when one byte of an install.d script changed, and says which", async () => {
    writeProbe(
      join(work, "elements"),
      PROBE_INSTALL.replace("probe ", "probE "),
      PROBE_FINALISE("two"),
    );
    const changed = await build("hook-changed");
    expect(changed.cache[0]).toMatchObject({
      result: "miss",
      changes: ["element stage-probe: install.d/50-stage-probe changed"],
    });
    expect(changed.ran).toContain("install.d");
    expect(changed.output[0]).toMatchObject({
      result: "miss",
      changes: ["element stage-probe: install.d/50-stage-probe changed"],
    });
    expect(changed.file("etc/stage-probe")).toBe("probE one\n");
  });

  it("builds it again when the mirror's index, a variable or a file a variable names changed", async () => {
    inRelease = inRelease.replace("10:00:00", "11:00:00");
    const index = await build("index-changed");
    expect(index.cache[0]).toMatchObject({
      result: "miss",
      changes: [`mirror index ${mirror}/InRelease changed`],
    });
    expect(index.output[0]).toMatchObject({
      result: "miss",
      changes: [`mirror index ${mirror}/InRelease changed`],
    });
    const named = join(work, "probe-file");
    writeFileSync(named, "a\n");
    const env = { STAGE_PROBE_WORD: "two", STAGE_PROBE_FILE: named };
    const variable = await build("variable-changed", [], env);
    expect(variable.cache[0]).toMatchObject({ result: "miss" });
    expect(variable.cache[0]?.changes).toContain("variable STAGE_PROBE_WORD is new");
    expect(variable.output[0]?.changes).toContain("variable STAGE_PROBE_WORD is new");
    expect(variable.file("etc/stage-probe")).toBe("probE two\n");
    writeFileSync(named, "b\n");
    const file = await build("named-file-changed", [], env);
    expect(file.cache[0]).toMatchObject({
      result: "miss",
      changes: ["variable file named by STAGE_PROBE_FILE changed"],
    });
    expect(file.file("etc/stage-probe-list")).toBe("b\nlisted\n");
  });

  it("two builds of one stage at once: both finish, one stores it, the next build reuses it", async () => {
    const env = { STAGE_PROBE_WORD: "together" };
    const [a, b] = await Promise.all([
      build("together-a", [], env, "together-a/image"),
      build("together-b", [], env, "together-b/image"),
    ]);
    const results = [a, b].map((r) => r.cache.map((e) => e.result));
    // Neither waited for the other; at most one stored the stage (a build that came second,
    // after the first had stored it, may have reused it instead).
    expect(results.flat().filter((r) => r === "stored")).toHaveLength(1);
    for (const r of results) {
      expect([["miss", "stored"], ["miss", "not-stored"], ["hit"]]).toContainEqual(r);
    }
    for (const e of [...a.cache, ...b.cache].filter((e) => e.result === "not-stored")) {
      expect(e.reason).toMatch(/^(another build is storing this stage|already stored)$/);
    }
    const together = a.describe();
    expect(b.describe()).toBe(together);
    // the outputs: stored once too, and whole (no build waited for the other)
    const outputs = [a, b].map((r) => r.output.map((e) => e.result));
    expect(outputs.flat().filter((r) => r === "stored")).toHaveLength(1);
    for (const r of outputs)
      expect([
        ["miss", "stored"],
        ["miss", "not-stored"],
      ]).toContainEqual(r);
    const after = await build("together-after", [], env, "after/image");
    expect(after.output.map((e) => e.result)).toEqual(["hit"]);
    expect(after.describe()).toBe(together);
  });

  it("with --no-cache neither reads nor writes the cache, and says so", async () => {
    const bypass = await build("no-cache", ["--no-cache"]);
    expect(bypass.cache).toEqual([
      expect.objectContaining({ result: "off", reason: "--no-cache" }),
    ]);
    expect(bypass.output).toEqual([]);
    expect(bypass.ran).toContain("install.d");
    expect(bypass.skipped).toEqual(["stage-store", "output-store"]);
  });

  it("is on by default, and DIB_STAGE_CACHE=0 turns it off", async () => {
    const off = await build("off", [], { DIB_STAGE_CACHE: "0" });
    expect(off.cache).toEqual([]);
    expect(off.ran).not.toContain("stage-restore");
    const on = await build("default", [], {}, "default/image");
    expect(on.output.map((e) => e.result)).toEqual(["hit"]);
  });
});
