import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliEntry, expectHostClean, type HostSnapshot, hostSnapshot, runCli } from "@dib/test";
import { expect } from "vitest";

/*
 * What the end-to-end failure tests share: facts about the host (mounts, loop devices,
 * processes of a build), one build's own directories, and running dib-cli from source in
 * the background while a test watches it.
 */

const repo = fileURLToPath(new URL("../..", import.meta.url));
/** The fixture elements (tiny-os, fail-in, slow-in, …) for ELEMENTS_PATH. */
export const fixtureElements = fileURLToPath(new URL("./fixtures/elements", import.meta.url));

let ordinal = 0;

// ---- the host -------------------------------------------------------------------------

export interface HostFacts {
  /** Names in /dev, without loop partition nodes (other builds on the machine add and remove those). */
  dev: string[];
  /** Which of the host's own pseudo-filesystem mounts exist. */
  mounts: string[];
}

const HOST_MOUNTS = ["/dev", "/dev/pts", "/dev/shm", "/proc", "/sys"];

function mountTargets(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ")[4] ?? "");
}

export function hostFacts(): HostFacts {
  const targets = new Set(mountTargets());
  return {
    dev: readdirSync("/dev").filter((n) => !/^loop\d+p\d+$/.test(n)),
    mounts: HOST_MOUNTS.filter((m) => targets.has(m)),
  };
}

/** The host's /dev, /proc and /sys are still what they were before the build. */
export function expectHostIntact(before: HostFacts): void {
  expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
  expect(readFileSync("/dev/null", "utf8")).toBe("");
  expect(existsSync("/proc/self/status")).toBe(true);
  expect(existsSync("/sys/kernel")).toBe(true);
  const now = hostFacts();
  // No name in /dev went missing, so their number did not drop either.
  expect(before.dev.filter((n) => !now.dev.includes(n))).toEqual([]);
  expect(now.mounts).toEqual(before.mounts);
}

/** Mount points at or below `dir`, and loop devices backed by a file below it. */
export function heldBelow(dir: string): { mounts: string[]; loops: string[] } {
  const mounts = mountTargets().filter((m) => m === dir || m.startsWith(`${dir}/`));
  const loops = execFileSync("losetup", ["--list", "--noheadings", "-O", "NAME,BACK-FILE"], {
    encoding: "utf8",
  })
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.includes(`${dir}/`));
  return { mounts, loops };
}

function isAtOrBelow(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function procLink(pid: string, link: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/${link}`);
  } catch {
    return undefined; // gone meanwhile, or a kernel thread
  }
}

/** Processes whose root directory is at or below `dir` (left in a chroot). */
export function processesRootedIn(dir: string): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n) && isAtOrBelow(procLink(n, "root") ?? "", dir))
    .map(Number);
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  args: string;
}

function listProcesses(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid …; comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      list.push({ pid: Number(name), ppid, args });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

/**
 * Processes of the build still around on the host: running in a chroot below `dir`,
 * working in it, started from a file in it (a hook script, a wrapper), and everything
 * those started.
 */
export function processesUsing(dir: string): { pid: number; args: string }[] {
  const all = listProcesses().filter((p) => p.pid !== process.pid);
  const found = new Map<number, ProcessInfo>();
  for (const p of all) {
    const name = String(p.pid);
    if (
      p.args.includes(`${dir}/`) ||
      isAtOrBelow(procLink(name, "root") ?? "", dir) ||
      isAtOrBelow(procLink(name, "cwd") ?? "", dir)
    ) {
      found.set(p.pid, p);
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.set(p.pid, p);
        grew = true;
      }
    }
  }
  return [...found.values()].map(({ pid, args }) => ({ pid, args }));
}

/** Ends processes a test found left behind, so they do not outlive it. */
export function killAll(processes: readonly { pid: number }[]): void {
  for (const p of processes) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// ---- one build ----------------------------------------------------------------------

/** One build's own directories: TMP_DIR, the output folder, and the host as it was. */
export interface Case {
  dir: string;
  tmpDir: string;
  out: string;
  snapshot: HostSnapshot;
  facts: HostFacts;
}

/**
 * A directory of its own below `work` for one build (with TMP_DIR inside it), and the host
 * as it was before.
 */
export function newCase(work: string, name: string): Case {
  const dir = mkdtempSync(join(work, `${String(++ordinal).padStart(2, "0")}-${name}-`));
  const tmpDir = join(dir, "tmp");
  mkdirSync(tmpDir);
  return {
    dir,
    tmpDir,
    out: join(dir, "out", "image"),
    snapshot: hostSnapshot(),
    facts: hostFacts(),
  };
}

/**
 * The environment of a tiny-os build of the fixture elements: the case's TMP_DIR and an image
 * cache the file's builds share (so tiny-os's tree is made once), plus `extra`.
 */
export function tinyOsEnv(
  c: Case,
  imageCache: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ELEMENTS_PATH: fixtureElements,
    TMP_DIR: c.tmpDir,
    DIB_IMAGE_CACHE: imageCache,
    ...extra,
  };
}

/**
 * The afterAll safety net of a file of builds below `work`, for a test that failed half-way:
 * `dib-cli cleanup` on every build directory a case still has, then `perCase` on each case's
 * directory; kills what still uses `work`, fails when anything is mounted or attached below
 * it, and removes it.
 */
export async function releaseCases(
  work: string,
  perCase: (caseDir: string) => void = () => {},
): Promise<void> {
  for (const name of readdirSync(work)) {
    const tmp = join(work, name, "tmp");
    if (existsSync(tmp)) {
      for (const d of readdirSync(tmp).filter((n) => n.startsWith("dib_build."))) {
        await runCli(["cleanup", "--force", "--remove", join(tmp, d)]);
      }
    }
    perCase(join(work, name));
  }
  killAll(processesUsing(work));
  expect(heldBelow(work)).toEqual({ mounts: [], loops: [] });
  rmSync(work, { recursive: true, force: true });
}

export function lines(text: string): string[] {
  return text.split("\n");
}

export function buildDirsOf(c: Case): string[] {
  return readdirSync(c.tmpDir)
    .filter((n) => n.startsWith("dib_build."))
    .map((n) => join(c.tmpDir, n));
}

/**
 * The build left nothing attached, mounted or running below its directory, no lock on its
 * output name, and the host is whole.
 */
export function expectNothingLeft(c: Case): void {
  expect(heldBelow(c.dir)).toEqual({ mounts: [], loops: [] });
  // The lock on the output name went with the build, however it ended.
  expect(existsSync(join(dirname(c.out), `.${basename(c.out)}.dib-lock`))).toBe(false);
  expect(processesUsing(c.dir)).toEqual([]);
  expectHostClean(c.snapshot, [c.dir]);
  expectHostIntact(c.facts);
}

export interface Running {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `dib-cli ARGS` from source; `group` gives it its own process group (as a shell job has). */
export function startCli(args: string[], env: Record<string, string>, group = false): Running {
  const child = spawn(
    process.execPath,
    ["--conditions=@dib/source", "--import", "tsx", cliEntry, ...args],
    {
      cwd: repo,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: group,
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Polls `probe` until it returns something; fails if the build ends first or it takes too long. */
export async function waitFor<T>(
  running: Running,
  what: string,
  probe: () => T | undefined,
  timeoutMs = 180_000,
): Promise<T> {
  let ended = false;
  void running.exited.then(() => {
    ended = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (ended || Date.now() > deadline) {
      const { stdout, stderr } = running.output();
      throw new Error(
        `${ended ? "the build ended" : "timed out"} before ${what}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LedgerLine {
  seq: number;
  op: "acquire" | "ready" | "release";
  resource?: { kind: string; file?: string; target?: string; root?: string };
}

/** The resources a build directory's ledger says are held (acquired, not released). */
export function heldInLedger(buildDir: string): LedgerLine[] {
  let text = "";
  try {
    text = readFileSync(join(buildDir, "ledger.jsonl"), "utf8");
  } catch {
    return [];
  }
  const lines = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LedgerLine);
  const released = new Set(lines.filter((l) => l.op === "release").map((l) => l.seq));
  const ready = new Set(lines.filter((l) => l.op === "ready").map((l) => l.seq));
  return lines.filter((l) => l.op === "acquire" && !released.has(l.seq) && ready.has(l.seq));
}
