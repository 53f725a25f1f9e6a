import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Host, isAtOrBelow, Ledger, mountsBelow, safeRemove } from "@dib/host";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
} from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { breakpointsFromEnv } from "./breakpoints.js";
import { type ChrootFilesystems, mountChrootFilesystems } from "./chroot-filesystems.js";
import { hookEnvironment } from "./hook-environment.js";
import type { PhaseEvent } from "./phase-events.js";
import { restoreResolvConf, useHostResolvConf } from "./resolv-conf.js";
import { runPhase } from "./run-phase.js";
import { allowServiceStarts, blockServiceStarts } from "./service-policy.js";

/** A Debian bookworm minbase root, made by the dev setup; without it, a root of a few binaries. */
const TARBALL = "/var/cache/dib-dev/bookworm-minbase.tar";

function put(path: string, body: string, mode = 0o755) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, mode);
}

/** The smallest root our scripts need: bash, env, sleep, sh and their libraries (ldd). */
function tinyRoot(root: string) {
  for (const d of [
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "lib64",
    "etc",
    "tmp",
    "root",
    "proc",
    "sys",
    "dev",
  ]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  symlinkSync("usr/bin", join(root, "bin"));
  symlinkSync("usr/lib", join(root, "lib"));
  for (const tool of ["bash", "env", "sleep", "sh"]) {
    const path = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    const libs = execFileSync("ldd", [path], { encoding: "utf8" })
      .split("\n")
      .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
      .filter((l): l is string => l !== undefined);
    for (const file of [path, ...libs]) {
      const real = realpathSync(file);
      const inRoot = join(root, file.replace(/^\/(bin|lib)\//, "/usr/$1/"));
      mkdirSync(dirname(inRoot), { recursive: true });
      if (!existsSync(inRoot)) copyFileSync(real, inRoot);
      chmodSync(inRoot, 0o755);
    }
  }
}

/** Processes whose root directory is at or below `dir`. */
function processesRootedIn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (isAtOrBelow(readlinkSync(`/proc/${name}/root`), dir)) pids.push(Number(name));
    } catch {
      // gone, or a zombie
    }
  }
  return pids;
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

const CHECK_SCRIPT = `#!/bin/bash
set -eu
{
  if [ -r /proc/self/status ]; then echo proc-mounted; fi
  while read -r _ target _ opts _; do
    case "$target" in
      /sys) echo "sys \${opts%%,*}" ;;
      /tmp/in_target.d) echo "in_target.d \${opts%%,*}" ;;
      /dev/pts) echo "dev/pts mounted" ;;
    esac
  done < /proc/mounts
  if { : > /tmp/in_target.d/probe; } 2>/dev/null; then echo hooks-writable; else echo hooks-read-only; fi
  if [ -s /etc/resolv.conf ]; then echo resolv-present; fi
  if [ -c /dev/null ]; then echo dev-null; fi
  echo "env FROM_ENV=$FROM_ENV HOME=$HOME TMPDIR=\${TMPDIR:-unset}"
  echo "path $PATH"
  echo "elements $(get_image_element_array)"
} > /root/phase-markers
`;

describe.runIf(isRoot)(`a chroot phase in a real root${rootOnlyReason}`, () => {
  let before: HostSnapshot;
  let dir: string;
  let root: string;
  let hooks: string;
  let ledger: Ledger;
  let mounts: ChrootFilesystems | undefined;
  let env: Record<string, string>;
  let resolvBefore: string | undefined;
  const logged: string[] = [];
  const host = new Host({
    trace: !!process.env.PR_TRACE,
    log: (line) => {
      logged.push(line);
      if (process.env.PR_TRACE) console.log(new Date().toISOString(), line);
    },
  });

  beforeAll(async () => {
    before = hostSnapshot();
    dir = mkdtempSync(join(tmpdir(), "phase-runner-chroot-"));
    root = join(dir, "root");
    mkdirSync(root);
    // PHASE_RUNNER_TINY_ROOT=1 tries the fallback root even where the tarball exists.
    if (existsSync(TARBALL) && !process.env.PHASE_RUNNER_TINY_ROOT) {
      execFileSync("tar", ["-xf", TARBALL, "-C", root, "--numeric-owner"]);
    } else tinyRoot(root);
    const resolv = join(root, "etc/resolv.conf");
    const resolvStat = lstatSync(resolv, { throwIfNoEntry: false });
    resolvBefore = resolvStat?.isSymbolicLink()
      ? `-> ${readlinkSync(resolv)}`
      : resolvStat
        ? readFileSync(resolv, "utf8")
        : undefined;
    hooks = join(dir, "hooks");
    put(join(hooks, "environment.d/10-env.bash"), "export FROM_ENV=sourced-in-chroot\n", 0o644);
    put(join(hooks, "install.d/10-check"), CHECK_SCRIPT);
    put(
      join(hooks, "install.d/20-daemon"),
      "#!/bin/bash\nsleep 1000 &\necho $! > /root/daemon.pid\n",
    );
    put(
      join(hooks, "install.d/30-policy"),
      '#!/bin/bash\n/usr/sbin/policy-rc.d ssh start || echo "policy $?" >> /root/phase-markers\n',
    );
    put(join(hooks, "post-install.d/10-ok"), "#!/bin/bash\necho 10-ok >> /root/post-install.log\n");
    put(join(hooks, "post-install.d/20-fails"), "#!/bin/bash\necho 'no space left' >&2\nexit 5\n");
    put(
      join(hooks, "post-install.d/30-never"),
      "#!/bin/bash\necho 30-never >> /root/post-install.log\n",
    );
    env = {
      ...hookEnvironment({
        arch: "amd64",
        imageName: "image",
        elements: [{ name: "base", path: "/e/base" }],
        elementsPath: ["/e"],
        imageCache: join(dir, "cache"),
        buildDir: dir,
        imageDir: join(dir, "img"),
        args: [],
      }),
      TMPDIR: "/host/only/tmp",
    };
    ledger = Ledger.open(join(dir, "build"), host);
    useHostResolvConf(root);
    blockServiceStarts(root);
    mounts = await mountChrootFilesystems(root, { host, ledger });
  }, 300_000);

  afterAll(async () => {
    // A safety net for a failed test: the last test releases everything itself.
    await mounts?.release().catch(() => {});
    await ledger?.undo().catch(() => {});
    if (dir && existsSync(dir) && mountsBelow(realpathSync(dir)).length === 0) safeRemove(dir);
  }, 120_000);

  it("runs the phase inside with /proc, read-only /sys and hooks, resolv.conf and the hook environment", async () => {
    const events: PhaseEvent[] = [];
    const result = await runPhase({
      phase: "install",
      hooksDir: hooks,
      target: { chroot: root },
      env,
      host,
      ledger,
      onEvent: (e) => events.push(e),
      scriptElements: { "install.d/10-check": "checker" },
    });
    expect(result.timings.map((t) => [t.script, t.exitCode])).toEqual([
      ["10-check", 0],
      ["20-daemon", 0],
      ["30-policy", 0],
    ]);
    const markers = readFileSync(join(root, "root/phase-markers"), "utf8").trimEnd().split("\n");
    expect(markers).toEqual(
      expect.arrayContaining([
        "proc-mounted",
        "sys ro",
        "in_target.d ro",
        "dev/pts mounted",
        "hooks-read-only",
        "resolv-present",
        "dev-null",
        "env FROM_ENV=sourced-in-chroot HOME=/root TMPDIR=unset",
        "path /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "elements [base]=/e/base ",
        "policy 101",
      ]),
    );
    expect(events.find((e) => e.type === "script-start")).toMatchObject({
      script: "10-check",
      element: "checker",
    });
  });

  it("ends what a script left running inside when the phase ends, and unbinds the hooks", () => {
    const pid = Number(readFileSync(join(root, "root/daemon.pid"), "utf8"));
    expect(pid).toBeGreaterThan(1);
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(join(root, "tmp/in_target.d"))).toBe(false);
    expect(
      mountsBelow(realpathSync(root))
        .map((m) => m.target.slice(realpathSync(root).length))
        .sort(),
    ).toEqual(["/dev", "/dev/pts", "/proc", "/sys"]);
  });

  it("stops at a failing script naming it, after opening break shells inside the chroot", async () => {
    const breakpoints = breakpointsFromEnv({
      break: "before-post-install,after-error",
      break_cmd: 'echo "break in chroot" >> /tmp/break.log',
    });
    const error = await runPhase({
      phase: "post-install",
      hooksDir: hooks,
      target: { chroot: root },
      env,
      host,
      ledger,
      breakpoints,
      output: () => {},
      scriptElements: { "post-install.d/20-fails": "disk-filler" },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "DIB_PHASE_SCRIPT_FAILED",
      message: "post-install.d/20-fails (element disk-filler) failed with exit code 5",
    });
    expect(readFileSync(join(root, "root/post-install.log"), "utf8")).toBe("10-ok\n");
    expect(readFileSync(join(root, "tmp/break.log"), "utf8")).toBe(
      "break in chroot\nbreak in chroot\n",
    );
    expect(existsSync(join(root, "tmp/in_target.d"))).toBe(false);
  });

  it("opens the after-error shell on the host with break_outside_target", async () => {
    const marker = join(dir, "outside-break.log");
    const error = await runPhase({
      phase: "post-install",
      hooksDir: hooks,
      target: { chroot: root },
      env: { ...env, MARKER: marker },
      host,
      ledger,
      breakpoints: breakpointsFromEnv({
        break: "after-error",
        break_cmd: 'echo "break outside" >> "$MARKER"',
        break_outside_target: "1",
      }),
      output: () => {},
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "DIB_PHASE_SCRIPT_FAILED" });
    expect(readFileSync(marker, "utf8")).toBe("break outside\n");
  });

  it("leaves nothing mounted or running below the build directory once released", async () => {
    await mounts?.release();
    mounts = undefined;
    const resolv = join(root, "etc/resolv.conf");
    expect(await restoreResolvConf(root, { host })).not.toBe("kept-final");
    const resolvStat = lstatSync(resolv, { throwIfNoEntry: false });
    const resolvAfter = resolvStat?.isSymbolicLink()
      ? `-> ${readlinkSync(resolv)}`
      : resolvStat
        ? readFileSync(resolv, "utf8")
        : undefined;
    expect(resolvAfter).toEqual(resolvBefore);
    expect(allowServiceStarts(root)).toBe("removed");
    await ledger.undo();
    const real = realpathSync(dir);
    expect(mountsBelow(real)).toEqual([]);
    expect(processesRootedIn(real)).toEqual([]);
    safeRemove(dir);
    expect(existsSync(dir)).toBe(false);
    expectHostClean(before);
  }, 120_000);
});
