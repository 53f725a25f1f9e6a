import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot, rootOnlyReason, runCli } from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildDirsOf,
  type Case,
  newCase as caseIn,
  expectNothingLeft,
  heldBelow,
  lines,
  processesUsing,
  releaseCases,
  startCli,
  tinyOsEnv,
  waitFor,
} from "./build-harness.js";

/*
 * Faults a build meets in the wild, each ending with the host as it was (no loop device,
 * mount or chroot process of the build left, its build directory gone or kept as asked)
 * and a message that names the cause: the output file system running full while the raw
 * image is copied and while qcow2 is written, a hook killed as the OOM killer would, two
 * builds with the same -o, `dib-cli cleanup` twice and under a running build, and the
 * package mirror answering 404 or going away half-way through apt's downloads.
 *
 * tiny-os (the host's bash in a tree) stands in for the operating system except for the
 * mirror, where apt-get runs for real in the bookworm minbase tree against a repository
 * this file serves on 127.0.0.1.
 */

const minbaseTar = process.env.DIB_TEST_MINBASE_TAR ?? "/var/cache/dib-dev/bookworm-minbase.tar";
const haveMinbase = existsSync(minbaseTar);

let work: string;
/** Shared by the tiny-os builds, so its tree is made once. */
let imageCache: string;

function newCase(name: string): Case {
  return caseIn(work, name);
}

function env(c: Case, extra: Record<string, string> = {}): Record<string, string> {
  return tinyOsEnv(c, imageCache, extra);
}

/** A small tiny-os disk on disk (not in a tmpfs): `-n --no-tmpfs`, a 4 MiB journal. */
function tinyArgs(c: Case, types: string, elements: string[], extra: string[] = []): string[] {
  return [
    "-n",
    "-t",
    types,
    "--no-tmpfs",
    "--mkfs-journal-size",
    "4",
    "-o",
    c.out,
    ...extra,
    "tiny-os",
    ...elements,
  ];
}

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** What is mounted or attached below the build's own TMP_DIR (the test's own file system aside). */
function expectBuildReleased(c: Case): void {
  expect(heldBelow(c.tmpDir)).toEqual({ mounts: [], loops: [] });
  expect(processesUsing(c.tmpDir)).toEqual([]);
}

// ---- a small file system as the -o target -------------------------------------------

interface SmallFs {
  dir: string;
  free(): number;
  unmount(): void;
}

/**
 * A `sizeMiB` ext4 file system in a file below the case, mounted (through a loop device
 * that goes with the mount) where the case's outputs go.
 */
function smallOutputFs(c: Case, sizeMiB: number): SmallFs {
  const file = join(c.dir, "outfs.ext4");
  const dir = join(c.dir, "out");
  mkdirSync(dir, { recursive: true });
  execFileSync("truncate", ["-s", `${sizeMiB}M`, file]);
  execFileSync("mkfs.ext4", ["-q", "-F", "-m", "0", "-O", "^has_journal", file]);
  execFileSync("mount", ["-o", "loop", file, dir]);
  let mounted = true;
  return {
    dir,
    free: () => {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    unmount: () => {
      if (!mounted) return;
      execFileSync("umount", [dir]);
      mounted = false;
    },
  };
}

// ---- a package mirror on 127.0.0.1 --------------------------------------------------

type MirrorFault = "404" | "stop";

interface Mirror {
  url: string;
  /** Paths asked for, in order, with the status given (0: the server had stopped). */
  log: { path: string; status: number }[];
  close(): Promise<void>;
}

/** A flat apt repository in `dir` with two tiny packages, made with dpkg-deb. */
function makeRepository(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of ["dib-fault-one", "dib-fault-two"]) {
    const pkg = join(dir, `${name}-src`);
    mkdirSync(join(pkg, "DEBIAN"), { recursive: true });
    mkdirSync(join(pkg, "usr", "share", name), { recursive: true });
    writeFileSync(join(pkg, "usr", "share", name, "marker"), `${name}\n`);
    writeFileSync(
      join(pkg, "DEBIAN", "control"),
      [
        `Package: ${name}`,
        "Version: 1.0",
        "Architecture: all",
        "Maintainer: dib tests <dib@example.invalid>",
        `Description: ${name}, a package for the mirror fault tests`,
        "",
      ].join("\n"),
    );
    execFileSync(
      "dpkg-deb",
      ["--root-owner-group", "-Zgzip", "--build", pkg, join(dir, `${name}_1.0_all.deb`)],
      {
        stdio: "ignore",
      },
    );
    rmSync(pkg, { recursive: true });
  }
  const packages = execFileSync("dpkg-scanpackages", ["--multiversion", "."], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  writeFileSync(join(dir, "Packages"), packages);
  const sha = createHash("sha256").update(packages).digest("hex");
  writeFileSync(
    join(dir, "Release"),
    [
      "Origin: dib-tests",
      "Label: dib-tests",
      `Date: ${new Date().toUTCString()}`,
      "SHA256:",
      ` ${sha} ${Buffer.byteLength(packages)} Packages`,
      "",
    ].join("\n"),
  );
}

/**
 * Serves `dir` on 127.0.0.1 until the fault: with "404" every request for
 * dib-fault-two's .deb is answered 404 Not Found; with "stop" the server stops listening
 * (and drops its connections) at the first .deb asked for, so apt finds nobody there.
 */
async function serveMirror(dir: string, fault: MirrorFault): Promise<Mirror> {
  const log: Mirror["log"] = [];
  const sockets = new Set<Socket>();
  let stopped = false;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(
      /^\/+(\.\/)?/,
      "",
    );
    if (fault === "stop" && path.endsWith(".deb")) {
      log.push({ path, status: 0 });
      stopped = true;
      server.close();
      for (const s of sockets) s.destroy();
      return;
    }
    const file = join(dir, path);
    const missing =
      path.includes("..") ||
      path.includes("/") ||
      !existsSync(file) ||
      (fault === "404" && path.startsWith("dib-fault-two_"));
    if (missing) {
      log.push({ path, status: 404 });
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    log.push({ path, status: 200 });
    const body = readFileSync(file);
    res
      .writeHead(200, { "content-length": body.length })
      .end(req.method === "HEAD" ? undefined : body);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    log,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (!stopped) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- the faults ---------------------------------------------------------------------

describe.runIf(isRoot)(
  `faults a build meets in the wild${rootOnlyReason}`,
  { concurrent: true },
  () => {
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), "dib-e2e-faults-"));
      imageCache = join(work, "cache");
    });

    afterAll(async () => {
      if (!work) return;
      // A failed case may leave its small output file system mounted.
      await releaseCases(work, (caseDir) => {
        const out = join(caseDir, "out");
        if (existsSync(out) && heldBelow(out).mounts.length > 0) {
          execFileSync("umount", ["-l", out]);
        }
      });
    });

    describe("the output file system runs full", { concurrent: true }, () => {
      it("while the raw image is copied there: warns first, then names ENOSPC and the target, and removes the partial file", async ({
        expect,
      }) => {
        const c = newCase("enospc-raw");
        const fs = smallOutputFs(c, 8);
        try {
          const freeBefore = fs.free();
          const result = await runCli(tinyArgs(c, "raw", ["blob-file"]), {
            env: env(c, { BLOB_MB: "12" }),
          });
          expect(result.exitCode, result.stderr).toBe(1);
          // Before the image is made: the tree alone is larger than the free space.
          const warning = result.stdout.search(
            new RegExp(
              `^WARNING: ${fs.dir} has \\d+(\\.\\d)? [KM]iB free, but the raw output of this image needs at least \\d+(\\.\\d)? MiB`,
              "m",
            ),
          );
          expect(warning, `${result.stdout}\n${result.stderr}`).toBeGreaterThanOrEqual(0);
          expect(warning).toBeLessThan(result.stdout.search(/^\s*ok\s+block-device-create/m));
          expect(result.stderr).toContain(
            `error DIB_OUTPUT_NO_SPACE: no space left on device (ENOSPC) while writing ${c.out}.raw: the file system of ${fs.dir} is full`,
          );
          expect(result.stderr).toMatch(/^hint: .*the partial file was removed/m);
          expect(filesIn(fs.dir)).toEqual(["lost+found"]);
          expect(fs.free()).toBe(freeBefore);
          expect(buildDirsOf(c)).toEqual([]);
          expectBuildReleased(c);
        } finally {
          fs.unmount();
        }
        expectNothingLeft(c);
      });

      it("while qcow2 is written: no warning (compressed it might fit), then ENOSPC named, the partial file removed", async ({
        expect,
      }) => {
        const c = newCase("enospc-qcow2");
        const fs = smallOutputFs(c, 8);
        try {
          const freeBefore = fs.free();
          // Kept on failure, as asked: the raw image stays in the build directory.
          const result = await runCli(tinyArgs(c, "qcow2", ["blob-file"], ["--keep-on-failure"]), {
            env: env(c, { BLOB_MB: "12" }),
          });
          expect(result.exitCode, result.stderr).toBe(1);
          expect(`${result.stdout}\n${result.stderr}`).not.toContain("WARNING: ");
          expect(result.stderr).toContain(
            `error DIB_OUTPUT_NO_SPACE: no space left on device (ENOSPC) while writing ${c.out}.qcow2: the file system of ${fs.dir} is full`,
          );
          expect(result.stderr).toContain("step: disk-outputs");
          expect(filesIn(fs.dir)).toEqual(["lost+found"]);
          expect(fs.free()).toBe(freeBefore);
          const [kept] = buildDirsOf(c);
          expect(kept).toBeDefined();
          expect(existsSync(join(kept as string, "build", "image", "image0.raw"))).toBe(true);
          expectBuildReleased(c);
          const remove = await runCli(["cleanup", "--remove", kept as string]);
          expect(remove.exitCode).toBe(0);
          expect(buildDirsOf(c)).toEqual([]);
        } finally {
          fs.unmount();
        }
        expectNothingLeft(c);
      });
    });

    describe("a hook killed as the OOM killer would", { concurrent: true }, () => {
      // Chroot phases: what a killed hook started is ended with the chroot. (An outside
      // hook's children would outlive it on the host, as DIB's do.)
      it.for([
        ["install", "the hook, in the root tree", "hook"],
        ["finalise", "the hook, in the mounted image", "hook"],
        ["install", "the phase's own shell under the hook", "driver"],
      ] as const)(
        "in %s.d (chroot): SIGKILL to %s is named with the script, and nothing is left",
        async ([phase, _what, victim], { expect }) => {
          const c = newCase(`sigkill-${phase}-${victim}`);
          const marker = "/tmp/slow-in.marker";
          const script = `/tmp/in_target.d/${phase}.d/50-slow`;
          const build = startCli(
            tinyArgs(c, "raw", ["slow-in"]),
            env(c, { SLOW_PHASE: phase, SLOW_MARKER: marker }),
          );
          const buildDir = await waitFor(build, `${phase}.d hung`, () =>
            buildDirsOf(c).find((d) => existsSync(join(d, "build", "mnt", marker))),
          );
          // One process, as the OOM killer picks one: the hook, or the shell that runs the
          // phase's hooks one after another; never the build itself.
          const target = await waitFor(build, `the ${victim}'s process`, () =>
            processesUsing(buildDir).find((p) =>
              victim === "hook"
                ? p.args.endsWith(` ${script}`)
                : p.args.includes("/tmp/in_target.d/.dib-phase-driver.bash"),
            ),
          );
          process.kill(target.pid, "SIGKILL");
          const exit = await build.exited;
          const { stdout, stderr } = build.output();
          expect(exit, stderr).toEqual({ code: 1, signal: null });
          const what = `${phase}.d/50-slow (element slow-in)`;
          expect(stderr).toContain(
            victim === "hook"
              ? `error DIB_PHASE_SCRIPT_FAILED: ${what} was killed by SIGKILL (exit code 137) — out of memory?\n`
              : `error DIB_PHASE_SCRIPT_FAILED: ${what} was interrupted: its phase was killed by SIGKILL (exit code 137) — out of memory?\n`,
          );
          expect(lines(stderr)).toContain("signal: SIGKILL");
          expect(stderr).toMatch(/^hint: .*OOM killer.*dmesg/m);
          expect(stdout).toContain(`Build failed in ${what}`);
          expect(existsSync(buildDir)).toBe(false);
          expectNothingLeft(c);
        },
      );
    });

    describe("two builds with the same -o", () => {
      it("the second refuses, naming the first; the first finishes alone, and the name is free after", async ({
        expect,
      }) => {
        const first = newCase("same-o-first");
        const second = newCase("same-o-second");
        second.out = first.out;
        const hold = "/tmp/hold";
        const a = startCli(
          tinyArgs(first, "raw", ["hold-in"]),
          env(first, { HOLD_MARKER: hold, BUILD_TAG: "first" }),
        );
        const aDir = await waitFor(a, "install.d held", () =>
          buildDirsOf(first).find((d) => existsSync(join(d, "build", "mnt", hold))),
        );
        const refused = await runCli(tinyArgs(second, "raw", ["hold-in"]), {
          env: env(second, { BUILD_TAG: "second" }),
        });
        expect(refused.exitCode).toBe(1);
        expect(refused.stderr).toContain(
          `error DIB_LOCKED: the output name ${first.out} is in use by another build: pid ${a.child.pid}, build directory ${aDir} (since `,
        );
        expect(refused.stderr).toMatch(
          /^hint: wait for that build to finish, or choose another name/m,
        );
        // Refused before anything was made: no build directory, no output, the first untouched.
        expect(buildDirsOf(second)).toEqual([]);
        expect(existsSync(aDir)).toBe(true);

        writeFileSync(join(aDir, "build", "mnt", `${hold}.go`), "");
        const exit = await a.exited;
        expect(exit, a.output().stderr).toEqual({ code: 0, signal: null });
        const outDir = join(first.dir, "out");
        expect(filesIn(outDir)).toEqual(["image.raw"]);
        const tag = (image: string) =>
          execFileSync("debugfs", ["-R", "cat /etc/dib-build-tag", image], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
          });
        expect(tag(`${first.out}.raw`)).toBe("first\n");

        // The lock went with the first build: the same -o builds now, replacing the image.
        const again = await runCli(tinyArgs(second, "raw", ["hold-in"]), {
          env: env(second, { BUILD_TAG: "second", OVERWRITE_OLD_IMAGE: "1" }),
        });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(filesIn(outDir)).toEqual(["image.raw"]);
        expect(tag(`${first.out}.raw`)).toBe("second\n");
        expectNothingLeft(first);
        expectNothingLeft(second);
      });
    });

    describe("dib-cli cleanup", () => {
      it("refuses a running build's directory, then after a SIGKILL releases it, and can be run twice", async ({
        expect,
      }) => {
        const c = newCase("cleanup");
        const hold = "/tmp/hold";
        const build = startCli(tinyArgs(c, "raw", ["hold-in"]), env(c, { HOLD_MARKER: hold }));
        const buildDir = await waitFor(build, "install.d held", () =>
          buildDirsOf(c).find((d) => existsSync(join(d, "build", "mnt", hold))),
        );
        const held = heldBelow(buildDir);
        expect(held.mounts.length).toBeGreaterThanOrEqual(4);

        for (const extra of [[], ["--remove"]]) {
          const refused = await runCli(["cleanup", ...extra, buildDir]);
          expect(refused.exitCode).toBe(1);
          expect(refused.stderr).toContain(
            `error DIB_BUILD_RUNNING: the build that owns ${buildDir} is still running (pid ${build.child.pid})`,
          );
          // Nothing was touched under the running build.
          expect(heldBelow(buildDir)).toEqual(held);
          expect(existsSync(join(buildDir, "build", "mnt", hold))).toBe(true);
        }

        build.child.kill("SIGKILL");
        expect(await build.exited).toEqual({ code: null, signal: "SIGKILL" });
        // The killed build's lock on its -o is still there: a later build would take it over.
        const lock = join(c.dir, "out", ".image.dib-lock");
        expect(existsSync(lock)).toBe(true);

        const first = await runCli(["cleanup", buildDir]);
        expect(first.exitCode, first.stderr).toBe(0);
        expect(lines(first.stdout)).toContain(`released mount at ${buildDir}/build/mnt/proc`);
        expect(lines(first.stdout)).toContain(`released lock ${lock}`);
        expect(existsSync(lock)).toBe(false);
        expect(heldBelow(c.dir)).toEqual({ mounts: [], loops: [] });

        const second = await runCli(["cleanup", buildDir]);
        expect(second.exitCode, second.stderr).toBe(0);
        expect(second.stdout).toBe(`nothing held by ${buildDir}`);

        const remove = await runCli(["cleanup", "--remove", buildDir]);
        expect(remove.exitCode, remove.stderr).toBe(0);
        expect(lines(remove.stdout)).toEqual([
          `nothing held by ${buildDir}`,
          `removed ${buildDir}`,
        ]);
        const removeAgain = await runCli(["cleanup", "--remove", buildDir]);
        expect(removeAgain.exitCode, removeAgain.stderr).toBe(0);
        expect(removeAgain.stdout).toBe(`nothing to clean up: ${buildDir} does not exist`);
        expect(existsSync(buildDir)).toBe(false);
        expectNothingLeft(c);
      });
    });

    describe.runIf(haveMinbase)(
      `the package mirror fails half-way${haveMinbase ? "" : ` (skipped: ${minbaseTar} is missing; scripts/make-test-minbase.sh makes it)`}`,
      { concurrent: true },
      () => {
        it.for([
          ["404", "answers 404 Not Found for the second package"],
          ["stop", "stops answering at the first package"],
        ] as const)(
          "%s: apt-get in the chroot %s: the build names the script and apt's error, and leaves nothing",
          async ([fault], { expect }) => {
            const c = newCase(`mirror-${fault}`);
            const repoDir = join(c.dir, "repo");
            makeRepository(repoDir);
            const mirror = await serveMirror(repoDir, fault);
            try {
              const result = await runCli(
                ["-n", "-t", "tar", "-o", c.out, "minbase-os", "apt-install"],
                {
                  env: env(c, {
                    DIB_TEST_MINBASE_TAR: minbaseTar,
                    DIB_DISTRIBUTION_MIRROR: mirror.url,
                    APT_INSTALL: "dib-fault-one dib-fault-two",
                  }),
                  timeout: 600_000,
                },
              );
              expect(result.exitCode, result.stderr).toBe(1);
              // The lists came from the mirror: the failure is in the downloads, half-way.
              expect(mirror.log.filter((l) => l.status === 200).map((l) => l.path)).toContain(
                "Packages",
              );
              expect(result.stderr).toContain(
                "error DIB_PHASE_SCRIPT_FAILED: install.d/50-apt-install (element apt-install) failed with exit code 100\n",
              );
              // apt's own words, under the header naming the script, above the error.
              const header =
                "--- last output of install.d/50-apt-install (element apt-install) ---";
              expect(result.stdout).toContain(header);
              const said = result.stdout.slice(result.stdout.indexOf(header));
              if (fault === "404") {
                expect(said).toMatch(
                  new RegExp(
                    `E: Failed to fetch ${mirror.url}\\.?/?dib-fault-two_1\\.0_all\\.deb +404 +Not Found`,
                  ),
                );
              } else {
                expect(said).toMatch(/E: Failed to fetch .*dib-fault-\w+_1\.0_all\.deb/);
                expect(said).toMatch(
                  /Could not connect to 127\.0\.0\.1|Connection refused|Connection failed/,
                );
              }
              expect(buildDirsOf(c)).toEqual([]);
              expect(filesIn(join(c.dir, "out"))).toEqual([]);
              expectNothingLeft(c);
            } finally {
              await mirror.close();
            }
          },
        );
      },
    );
  },
);
