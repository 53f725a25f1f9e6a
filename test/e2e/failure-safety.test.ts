import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isRoot, rootOnlyReason, runCli } from "@dib/test";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  buildDirsOf,
  type Case,
  newCase as caseIn,
  expectHostIntact,
  expectNothingLeft,
  heldBelow,
  heldInLedger,
  killAll,
  lines,
  processesRootedIn,
  processesUsing,
  releaseCases,
  startCli,
  tinyOsEnv,
  waitFor,
} from "./build-harness.js";

/*
 * Failure safety, end to end: a build that fails, is interrupted or is killed leaves
 * nothing of itself mounted or attached, never harms the host's /dev, /proc and /sys,
 * and says which element, phase and script failed. The builds are tiny (the tiny-os
 * fixture copies the host's bash into the root, no bootstrap), so each takes seconds.
 */

type Where = "outside" | "chroot";
const PHASES: readonly { phase: string; where: Where }[] = [
  { phase: "root", where: "outside" },
  { phase: "extra-data", where: "outside" },
  { phase: "pre-install", where: "chroot" },
  { phase: "install", where: "chroot" },
  { phase: "post-install", where: "chroot" },
  { phase: "post-root", where: "outside" },
  { phase: "block-device", where: "outside" },
  { phase: "pre-finalise", where: "outside" },
  { phase: "finalise", where: "chroot" },
  { phase: "cleanup", where: "outside" },
];

/** Where the slow-in element's chroot scripts touch their marker (inside the root). */
const MARKER_IN_ROOT = "/tmp/slow-in.marker";

let work: string;
/** Shared by every build of this file, so tiny-os is made once and unpacked after. */
let imageCache: string;

function newCase(name: string): Case {
  return caseIn(work, name);
}

// ---- one build ----------------------------------------------------------------------

/** `-n -t raw --no-tmpfs`: a disk with the filesystem-only layout, small, on disk. */
function buildArgs(c: Case, extra: string[] = []): string[] {
  return [
    "-n",
    "-t",
    "raw",
    "--no-tmpfs",
    "--mkfs-journal-size",
    // DIB's size arithmetic adds the journal to a 5 MiB tree; 64 MiB would not fit.
    "4",
    "-o",
    c.out,
    ...extra,
    "tiny-os",
    "fail-in",
    "slow-in",
  ];
}

function buildEnv(c: Case, extra: Record<string, string> = {}): Record<string, string> {
  return tinyOsEnv(c, imageCache, extra);
}

/** The build directory once the slow-in script of a chroot phase is running. */
function chrootMarker(c: Case): () => string | undefined {
  return () => buildDirsOf(c).find((d) => existsSync(join(d, "build", "mnt", MARKER_IN_ROOT)));
}

/**
 * A mkfs.ext4 for PATH that holds its device open and waits before doing the real work,
 * so a test can catch the build inside block-device-create: the image's loop device
 * attached and a command running on it. Ends cleanly on SIGTERM/SIGINT.
 */
function stallingMkfs(c: Case): { path: string; started: string } {
  const bin = join(c.dir, "bin");
  mkdirSync(bin);
  const started = join(c.dir, "mkfs-started");
  const real = execFileSync("bash", ["-c", "PATH=/usr/sbin:/sbin:$PATH command -v mkfs.ext4"], {
    encoding: "utf8",
  }).trim();
  writeFileSync(
    join(bin, "mkfs.ext4"),
    [
      "#!/bin/bash",
      // The device is the last argument.
      "for device; do :; done",
      'exec 3<"$device"',
      `touch ${started}`,
      "sleep 300 &",
      "trap 'kill $!; exit 143' TERM INT",
      "wait $!",
      "exec 3<&-",
      `exec ${real} "$@"`,
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "mkfs.ext4"), 0o755);
  return { path: `${bin}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`, started };
}

const SIGNALS = [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const;

describe.runIf(isRoot)(
  `failure safety of dib-cli build${rootOnlyReason}`,
  { concurrent: true },
  () => {
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), "dib-e2e-failure-"));
      imageCache = join(work, "cache");
    });

    afterAll(async () => {
      if (work) await releaseCases(work);
    });

    describe("a failing script", () => {
      it.for(PHASES.map((p) => [`${p.phase}.d`, p.where, p.phase] as const))(
        "in %s (%s) fails the build naming element, phase and script, and leaves nothing",
        async ([dir, _where, phase], { expect }) => {
          const c = newCase(`fail-${phase}`);
          const result = await runCli(buildArgs(c), { env: buildEnv(c, { FAIL_PHASE: phase }) });
          expect(result.exitCode).toBe(1);
          expect(result.stderr).toContain(
            `error DIB_PHASE_SCRIPT_FAILED: ${dir}/50-fail (element fail-in) failed with exit code 3\n`,
          );
          expect(result.stderr).toMatch(/^hint: .*break=after-error/m);
          expect(result.stderr).toContain(`\nstep: ${dir}\nelement: fail-in\nscript: 50-fail\n`);
          // The script's own words are shown without -x, and the failed step is marked.
          expect(result.stdout).toContain(`fail-in: failing on purpose in ${dir}`);
          expect(result.stdout).toMatch(new RegExp(`^FAILED ${dir.replace(".", "\\.")}\\s`, "m"));
          expect(result.stdout.split("\n")).toContain(
            `Build failed in ${dir}/50-fail (element fail-in)`,
          );
          expect(result.stdout).toMatch(/^Build directory: .*\/dib_build\.\w+$/m);
          expect(buildDirsOf(c)).toEqual([]);
          expect(existsSync(`${c.out}.raw`)).toBe(false);
          // In a chroot phase fail-in also left a sleep running in the root: it is gone too.
          expectNothingLeft(c);
        },
      );
    });

    describe("an interrupted build", () => {
      it.for(SIGNALS)(
        "%s in install.d (chroot): exits %i and releases everything",
        async ([signal, code], { expect }) => {
          const c = newCase(`${signal}-install`);
          const build = startCli(
            buildArgs(c),
            buildEnv(c, { SLOW_PHASE: "install", SLOW_MARKER: MARKER_IN_ROOT }),
          );
          const buildDir = await waitFor(build, "install.d hung", chrootMarker(c));
          // What the signal has to undo: the chroot's mounts and the processes in it.
          expect(heldBelow(buildDir).mounts.length).toBeGreaterThanOrEqual(4);
          expect(processesRootedIn(buildDir).length).toBeGreaterThan(0);
          build.child.kill(signal);
          const exit = await build.exited;
          expect(exit, build.output().stderr).toEqual({ code, signal: null });
          // Said on stderr: stdout is kept for results (and --json events).
          expect(build.output().stderr).toContain(
            `${signal}: releasing everything this build holds\n`,
          );
          expect(build.output().stdout).not.toContain("releasing everything");
          expect(existsSync(buildDir)).toBe(false);
          expectNothingLeft(c);
        },
      );

      it("Ctrl-C (SIGINT to the whole process group) in install.d: exits 130 and releases everything", async ({
        expect,
      }) => {
        const c = newCase("ctrl-c-install");
        const build = startCli(
          buildArgs(c),
          buildEnv(c, { SLOW_PHASE: "install", SLOW_MARKER: MARKER_IN_ROOT }),
          true,
        );
        const buildDir = await waitFor(build, "install.d hung", chrootMarker(c));
        // A terminal's Ctrl-C reaches every process of the foreground job at once: dib, the
        // phase driver in the chroot, the hook and its sleep. The hook failing and the
        // interrupt handler then race to clean up.
        process.kill(-(build.child.pid as number), "SIGINT");
        const exit = await build.exited;
        expect(exit, build.output().stderr).toEqual({ code: 130, signal: null });
        expect(existsSync(buildDir)).toBe(false);
        expectNothingLeft(c);
      });

      it.for(SIGNALS)(
        "%s while the block device is being created: exits %i and detaches it",
        async ([signal, code], { expect }) => {
          const c = newCase(`${signal}-block-device`);
          const mkfs = stallingMkfs(c);
          const build = startCli(buildArgs(c), buildEnv(c, { PATH: mkfs.path }));
          const buildDir = await waitFor(build, "mkfs started", () =>
            existsSync(mkfs.started) ? buildDirsOf(c)[0] : undefined,
          );
          // Inside block-device-create: the ledger holds the image's loop device, it is
          // attached, and the root filesystem is not made yet.
          const held = heldInLedger(buildDir).map((l) => l.resource);
          expect(held.filter((r) => r?.kind === "loop")).toEqual([
            { kind: "loop", file: join(buildDir, "build", "image", "image0.raw") },
          ]);
          expect(heldBelow(c.dir).loops).toHaveLength(1);
          expect(build.output().stdout).not.toMatch(/ok\s+block-device-create/);
          build.child.kill(signal);
          const exit = await build.exited;
          expect(exit, build.output().stderr).toEqual({ code, signal: null });
          expect(existsSync(buildDir)).toBe(false);
          expect(existsSync(`${c.out}.raw`)).toBe(false);
          expectNothingLeft(c);
        },
      );

      it("SIGTERM in pre-finalise.d, the image mounted and chroot-ready: exits 143 and releases it all", async ({
        expect,
      }) => {
        const c = newCase("SIGTERM-pre-finalise");
        const marker = join(c.dir, "slow-started");
        const build = startCli(
          buildArgs(c),
          buildEnv(c, { SLOW_PHASE: "pre-finalise", SLOW_MARKER: marker }),
        );
        const buildDir = await waitFor(build, "pre-finalise.d hung", () =>
          existsSync(marker) ? buildDirsOf(c)[0] : undefined,
        );
        const kinds = heldInLedger(buildDir).map((l) => l.resource?.kind);
        expect(kinds).toContain("loop");
        expect(kinds).toContain("chroot");
        expect(heldBelow(buildDir).mounts.length).toBeGreaterThanOrEqual(5);
        build.child.kill("SIGTERM");
        const exit = await build.exited;
        expect(exit, build.output().stderr).toEqual({ code: 143, signal: null });
        expect(existsSync(buildDir)).toBe(false);
        // KNOWN BUG (see the next test): the hook of an outside phase outlives the build.
        killAll(processesUsing(c.dir));
        expectNothingLeft(c);
      });

      // Host.killChildren ends the phase driver and everything below it, so a hook of an
      // outside phase (and what it started) is not orphaned on the host.
      it("SIGINT in post-root.d (outside): leaves no hook process running on the host", async ({
        expect,
      }) => {
        const c = newCase("SIGINT-post-root");
        const marker = join(c.dir, "slow-started");
        const build = startCli(
          buildArgs(c),
          buildEnv(c, { SLOW_PHASE: "post-root", SLOW_MARKER: marker }),
        );
        await waitFor(build, "post-root.d hung", () => (existsSync(marker) ? true : undefined));
        build.child.kill("SIGINT");
        expect((await build.exited).code).toBe(130);
        await new Promise((r) => setTimeout(r, 500));
        const left = processesUsing(c.dir);
        killAll(left);
        expect(left).toEqual([]);
      });

      it("SIGKILL in install.d, then `dib-cli cleanup` releases what it left and --remove deletes it", async ({
        expect,
      }) => {
        const c = newCase("SIGKILL-install");
        const build = startCli(
          buildArgs(c),
          buildEnv(c, { SLOW_PHASE: "install", SLOW_MARKER: MARKER_IN_ROOT }),
        );
        const buildDir = await waitFor(build, "install.d hung", chrootMarker(c));
        build.child.kill("SIGKILL");
        expect(await build.exited).toEqual({ code: null, signal: "SIGKILL" });
        // A killed build cannot clean up: its mounts and chroot processes are still there.
        expect(heldBelow(buildDir).mounts.length).toBeGreaterThanOrEqual(4);
        expect(processesRootedIn(buildDir).length).toBeGreaterThan(0);

        const cleanup = await runCli(["cleanup", buildDir]);
        expect(cleanup.stderr).toBe("");
        expect(cleanup.exitCode).toBe(0);
        expect(lines(cleanup.stdout)).toContain(`released processes in ${buildDir}/build/mnt`);
        expect(lines(cleanup.stdout)).toContain(`released mount at ${buildDir}/build/mnt/proc`);
        expect(heldBelow(c.dir)).toEqual({ mounts: [], loops: [] });
        expect(processesUsing(c.dir)).toEqual([]);
        expectHostIntact(c.facts);
        // The tree is still there to look at, until --remove.
        expect(readFileSync(join(buildDir, "build", "mnt", "etc", "os-release"), "utf8")).toContain(
          "ID=tiny",
        );

        const remove = await runCli(["cleanup", "--remove", buildDir]);
        expect(remove.exitCode).toBe(0);
        expect(lines(remove.stdout)).toContain(`removed ${buildDir}`);
        expect(existsSync(buildDir)).toBe(false);
        expectNothingLeft(c);
      });
    });

    describe("a failed build kept for inspection", () => {
      it("--keep-on-failure keeps the build directory, unmounted, and says where it is", async ({
        expect,
      }) => {
        const c = newCase("keep-on-failure");
        const result = await runCli(buildArgs(c, ["--keep-on-failure"]), {
          env: buildEnv(c, { FAIL_PHASE: "finalise" }),
        });
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          "error DIB_PHASE_SCRIPT_FAILED: finalise.d/50-fail (element fail-in) failed with exit code 3\n",
        );
        const [kept] = buildDirsOf(c);
        expect(kept).toBeDefined();
        const buildDir = kept as string;
        const said = `${result.stdout}\n${result.stderr}`;
        expect(said).toMatch(/Build directory kept for inspection: \S*dib_build\./);
        expect(said).toMatch(/Remove it with: dib-cli cleanup --remove \S*dib_build\./);
        // Kept unmounted: finalise.d ran on the mounted image, which is now a plain file
        // (no loop device, nothing of the host mounted in it) holding the tree.
        const image = join(buildDir, "build", "image", "image0.raw");
        expect(
          execFileSync("debugfs", ["-R", "cat /etc/os-release", image], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
          }),
        ).toContain("ID=tiny");
        expect(existsSync(join(buildDir, "build", "hooks", "finalise.d", "50-fail"))).toBe(true);
        expect(heldBelow(c.dir)).toEqual({ mounts: [], loops: [] });
        expect(processesUsing(c.dir)).toEqual([]);
        expectHostIntact(c.facts);

        const remove = await runCli(["cleanup", "--remove", buildDir]);
        expect(remove.exitCode).toBe(0);
        expect(existsSync(buildDir)).toBe(false);
        expectNothingLeft(c);
      });

      it("break=after-error runs break_cmd in the chroot where the script failed, then keeps the tree", async ({
        expect,
      }) => {
        const c = newCase("break-after-error");
        const result = await runCli(buildArgs(c), {
          env: buildEnv(c, {
            FAIL_PHASE: "install",
            break: "after-error",
            // Runs in the chroot: the hooks are still mounted there at the failure point.
            break_cmd: "ls /tmp/in_target.d/install.d >/tmp/break-marker",
          }),
        });
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          "error DIB_PHASE_SCRIPT_FAILED: install.d/50-fail (element fail-in) failed with exit code 3\n",
        );
        expect(result.stdout).toMatch(/stopped at after-error \(chroot\)/);
        const [kept] = buildDirsOf(c);
        expect(kept).toBeDefined();
        const tree = join(kept as string, "build", "mnt");
        expect(readFileSync(join(tree, "tmp", "break-marker"), "utf8")).toMatch(/^50-fail$/m);
        expect(readFileSync(join(tree, "etc", "os-release"), "utf8")).toContain("ID=tiny");
        expect(lines(result.stdout)).toContain(`Build directory kept for inspection: ${kept}`);
        expect(heldBelow(c.dir)).toEqual({ mounts: [], loops: [] });
        expect(processesUsing(c.dir)).toEqual([]);

        const remove = await runCli(["cleanup", "--remove", kept as string]);
        expect(remove.exitCode).toBe(0);
        expectNothingLeft(c);
      });
    });
  },
);
