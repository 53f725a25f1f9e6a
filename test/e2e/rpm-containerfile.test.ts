import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  rootOnlyReason,
  runCli,
} from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  heldInLedger,
  killAll,
  lines,
  processesUsing,
  startCli,
  waitFor,
} from "./build-harness.js";

/**
 * The containerfile element for real, offline: the base image is this project's own
 * Debian minbase tree (scripts/make-test-minbase.sh) imported into podman's store, a
 * Containerfile adds to it, and root.d/08-containerfile builds it with podman and with
 * buildah; then a whole `dib-cli` build turns the exported root into a tar output.
 */
const elements = fileURLToPath(new URL("../../elements", import.meta.url));
const hook = join(elements, "containerfile", "root.d", "08-containerfile");
const minbaseTar = process.env.DIB_TEST_MINBASE_TAR ?? "/var/cache/dib-dev/bookworm-minbase.tar";

const has = async (tool: string) =>
  (await execa("sh", ["-c", `command -v ${tool}`], { reject: false })).exitCode === 0;
const havePodman = await has("podman");
const haveBuildah = await has("buildah");
const skip =
  rootOnlyReason ||
  (!havePodman ? " (skipped: needs podman)" : "") ||
  (existsSync(minbaseTar) ? "" : ` (skipped: ${minbaseTar} is missing)`);

/** Names of the images and containers in podman's store that this element makes. */
async function leftovers(): Promise<string[]> {
  const images = await execa("podman", ["images", "--all", "--format", "{{.Repository}}"]);
  const containers = await execa("podman", ["ps", "--all", "--format", "{{.Names}}"]);
  return `${images.stdout}\n${containers.stdout}`
    .split("\n")
    .filter((l) => l.includes("dib-tmp-work-"));
}

describe.runIf(skip === "")(`containerfile builds a root tree with a real runtime${skip}`, () => {
  const work = mkdtempSync(join(tmpdir(), "dib-containerfile-"));
  const base = `localhost/dib-test-minbase:${process.pid}`;
  const containerfile = join(work, "Containerfile");
  let before: HostSnapshot;

  beforeAll(async () => {
    before = hostSnapshot();
    await execa("podman", ["import", "--quiet", minbaseTar, base]);
    writeFileSync(
      containerfile,
      `FROM ${base}\nRUN echo "built by a Containerfile" > /etc/dib-containerfile && rm -f /usr/bin/perl\n`,
    );
  }, 300_000);

  afterAll(async () => {
    await execa("podman", ["rmi", "-f", base], { reject: false });
    rmSync(work, { recursive: true, force: true });
    expectHostClean(before, [work]);
  });

  async function runHook(runtime: string, env: Record<string, string> = {}) {
    const target = join(work, `tree-${runtime}`);
    const build = join(work, `build-${runtime}`);
    mkdirSync(build, { recursive: true });
    const result = await execa(hook, [], {
      reject: false,
      extendEnv: false,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: "/root",
        TARGET_ROOT: target,
        TMP_BUILD_DIR: build,
        TMP_HOOKS_PATH: join(work, "hooks"),
        DIB_IMAGE_CACHE: join(work, "cache"),
        DIB_RELEASE: "test",
        DIB_CONTAINERFILE_DOCKERFILE: containerfile,
        // Offline: the base is local, nothing may be pulled.
        DIB_CONTAINERFILE_BUILDOPTS: "--pull=never",
        DIB_CONTAINERFILE_RUNTIME: runtime,
        ...env,
      },
    });
    return { result, target, build };
  }

  it("podman: the tree is the built container's filesystem, and no container or image is left", async () => {
    const r = await runHook("podman");
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    expect(readFileSync(join(r.target, "etc/dib-containerfile"), "utf8")).toBe(
      "built by a Containerfile\n",
    );
    expect(readFileSync(join(r.target, "etc/debian_version"), "utf8")).toMatch(/^12\./);
    expect(existsSync(join(r.target, "usr/bin/perl"))).toBe(false);
    expect(existsSync(join(r.target, ".containerenv"))).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it.runIf(haveBuildah)("buildah: the same tree, through buildah's own tar output", async () => {
    const r = await runHook("buildah");
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    expect(readFileSync(join(r.target, "etc/dib-containerfile"), "utf8")).toBe(
      "built by a Containerfile\n",
    );
    expect(await leftovers()).toEqual([]);
  });

  it("a failing Containerfile leaves nothing behind; what a build killed with SIGKILL left, `dib-cli cleanup` removes through its ledger, or the next build sweeps once the ledger is gone too", async () => {
    const broken = join(work, "Broken");
    writeFileSync(broken, `FROM ${base}\nRUN exit 3\n`);
    const failed = await runHook("podman", { DIB_CONTAINERFILE_DOCKERFILE: broken });
    expect(failed.result.exitCode).not.toBe(0);
    expect(await leftovers()).toEqual([]);

    // A whole build, killed with SIGKILL in root.d once the container exists: the export is
    // unpacked (by a tar that then waits), so no podman command is cut off mid-way.
    const pauseBin = join(work, "pause-bin");
    const exported = join(work, "exported");
    mkdirSync(pauseBin, { recursive: true });
    writeFileSync(
      join(pauseBin, "tar"),
      `#!/bin/sh\ncase " $* " in *" -xpf - "*) /usr/bin/tar "$@" || exit; : >${exported}; exec sleep 600 ;; esac\nexec /usr/bin/tar "$@"\n`,
      { mode: 0o755 },
    );
    const tmp = join(work, "tmp-killed");
    mkdirSync(tmp, { recursive: true });
    const killed = startCli(
      ["-n", "-t", "tar", "--no-tmpfs", "-o", join(work, "out-killed", "image"), "containerfile"],
      {
        PATH: `${pauseBin}:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`,
        TMP_DIR: tmp,
        DIB_IMAGE_CACHE: join(work, "cache"),
        DIB_RELEASE: "test",
        DIB_CONTAINERFILE_DOCKERFILE: containerfile,
        DIB_CONTAINERFILE_BUILDOPTS: "--pull=never",
        DIB_CONTAINERFILE_RUNTIME: "podman",
      },
    );
    await waitFor(killed, "the container was exported", () =>
      existsSync(exported) ? true : undefined,
    );
    const buildDir = join(tmp, readdirSync(tmp).find((n) => n.startsWith("dib_build.")) ?? "");
    // Everything at once, the build first: no trap, no undo runs.
    const hook = processesUsing(buildDir);
    killed.child.kill("SIGKILL");
    killAll(hook);
    expect(await killed.exited).toEqual({ code: null, signal: "SIGKILL" });
    const left = (await leftovers()).sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toMatch(/^dib-tmp-work-container-/);
    expect(left[1]).toMatch(/^localhost\/dib-tmp-work-image-/);
    expect(heldInLedger(buildDir).map((l) => l.resource?.kind)).toContain("runtime-object");
    const cleanup = await runCli(["cleanup", "--remove", buildDir]);
    expect(cleanup.exitCode, cleanup.stderr).toBe(0);
    expect(lines(cleanup.stdout)).toEqual(
      expect.arrayContaining([
        `released podman container ${left[0]}`,
        `released podman image ${left[1]}`,
        `removed ${buildDir}`,
      ]),
    );
    expect(await leftovers()).toEqual([]);

    // A killed build whose ledger is gone as well (its build directory was deleted): its
    // container and image are labelled with that directory, and the next build sweeps them.
    const gone = join(work, "gone-build");
    await execa("podman", [
      "build",
      "--isolation",
      "chroot",
      "--pull=never",
      "--label",
      `dib.build-dir=${gone}`,
      "-t",
      "localhost/dib-tmp-work-image-killed",
      "-f",
      containerfile,
      work,
    ]);
    await execa("podman", [
      "create",
      "--name",
      "dib-tmp-work-container-killed",
      "--label",
      `dib.build-dir=${gone}`,
      "localhost/dib-tmp-work-image-killed",
      "/bin/sh",
    ]);
    expect((await leftovers()).sort()).toEqual([
      "dib-tmp-work-container-killed",
      "localhost/dib-tmp-work-image-killed",
    ]);
    const next = await runHook("podman");
    expect(next.result.exitCode, next.result.stderr).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  it("dib-cli turns the exported root into a tar output", async () => {
    const out = join(work, "out", "image");
    const tmp = join(work, "tmp");
    mkdirSync(tmp, { recursive: true });
    const built = await runCli(["-n", "-t", "tar", "--no-tmpfs", "-o", out, "containerfile"], {
      env: {
        TMP_DIR: tmp,
        DIB_IMAGE_CACHE: join(work, "cache"),
        DIB_RELEASE: "test",
        DIB_CONTAINERFILE_DOCKERFILE: containerfile,
        DIB_CONTAINERFILE_BUILDOPTS: "--pull=never",
        DIB_CONTAINERFILE_RUNTIME: "podman",
      },
    });
    expect(built.exitCode, `${built.stdout}\n${built.stderr}`).toBe(0);
    const listing = await execa("tar", ["-tf", `${out}.tar`]);
    const names = listing.stdout.split("\n").map((l) => l.replace(/^\.\//, ""));
    expect(names).toContain("etc/dib-containerfile");
    expect(names).toContain("etc/debian_version");
    const file = await execa("tar", ["-xOf", `${out}.tar`, "./etc/dib-containerfile"]);
    expect(file.stdout).toBe("built by a Containerfile");
    expect(await leftovers()).toEqual([]);
  });
});
