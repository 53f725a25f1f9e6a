import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliEntry } from "@dib/test";
import { afterAll, describe, expect, it } from "vitest";
import { elementFile, runScript, tempDir } from "./element-harness.js";
import { makeStandIns } from "./rpm-standins.js";

/**
 * Plan tests of the containerfile element and the container-based OS elements: the real
 * root.d hook with recording stand-ins for podman, buildah and docker (the registries
 * cannot be reached from here). test/e2e/rpm-containerfile.test.ts builds for real.
 */
const work = tempDir("rpm-containerfile");
afterAll(() => work.remove());
const tools = makeStandIns(join(work.dir, "tools"));
const rootfs = join(work.dir, "rootfs");
mkdirSync(join(rootfs, "etc"), { recursive: true });
writeFileSync(join(rootfs, "etc", "os-release"), "ID=fedora\n");
writeFileSync(join(rootfs, ".containerenv"), "");
const hook = elementFile("containerfile", "root.d", "08-containerfile");
const hybridCgroups = !existsSync("/sys/fs/cgroup/cgroup.controllers");

// The real dib-cli (from source) behind a wrapper that first logs its call among the
// runtime's, as the build's bin/dib-cli would be found on the hook's PATH.
const cliBin = join(work.dir, "cli-bin");
mkdirSync(cliBin);
writeFileSync(
  join(cliBin, "dib-cli"),
  `#!/bin/bash\nline=dib-cli; for a in "$@"; do line+=$'\\t'"$a"; done\nprintf '%s\\n' "$line" >> ${join(tools.bin, "..", "calls.log")}\nexec ${process.execPath} --conditions=@dib/source --import ${import.meta.resolve("tsx")} ${cliEntry} "$@"\n`,
  { mode: 0o755 },
);
/** A build directory with its ledger, as dib makes it before any hook runs. */
function ledgerDir(): string {
  const dir = join(work.dir, `ledger-${n + 1}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "ledger.jsonl"), "");
  return dir;
}
/** The ledger's records: the resource of each acquire, and which were released. */
function ledgerRecords(dir: string) {
  const records = readFileSync(join(dir, "ledger.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { seq: number; op: string; resource?: unknown });
  const released = new Set(records.filter((r) => r.op === "release").map((r) => r.seq));
  return records
    .filter((r) => r.op === "acquire")
    .map((r) => ({ resource: r.resource, released: released.has(r.seq) }));
}

let n = 0;
async function run(os: string, env: Record<string, string> = {}) {
  tools.reset();
  n += 1;
  const target = join(work.dir, `tree-${n}`);
  const build = join(work.dir, `build-${n}`);
  mkdirSync(build);
  const envDir = elementFile(os, "environment.d");
  const envFiles = readdirSync(envDir).map((f) => join(envDir, f));
  const result = await runScript(
    "/bin/bash",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script, not a template
    ["-c", 'for f in "${@:2}"; do . "$f"; done; exec "$1"', "run", hook, ...envFiles],
    {
      PATH: `${tools.bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
      TARGET_ROOT: target,
      TMP_BUILD_DIR: build,
      TMP_HOOKS_PATH: elementFile(os),
      DIB_IMAGE_CACHE: join(work.dir, "cache"),
      FAKE_ROOTFS: rootfs,
      ...env,
    },
  );
  const calls = tools.calls();
  const buildCall = calls.find((c) => c[1] === "build") ?? [];
  const tag = buildCall[buildCall.indexOf("-t") + 1] ?? "";
  return { result, target, build, calls, buildCall, tag };
}

describe("containerfile with the container-based OS elements", () => {
  it.each([
    ["fedora-container", "42", "FROM docker.io/library/fedora:42"],
    ["rocky-container", "9", "FROM quay.io/rockylinux/rockylinux:9"],
    ["almalinux-container", "10", "FROM quay.io/almalinuxorg/almalinux:10"],
  ])("%s builds its default release %s from the official image", async (os, release, from) => {
    const r = await run(os);
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    const file = elementFile(os, "containerfiles", release);
    expect(readFileSync(file, "utf8")).toContain(`${from}\n`);
    const context = join(work.dir, "cache", "containerfile");
    expect(r.buildCall).toEqual([
      "podman",
      "build",
      "--label",
      `dib.build-dir=${r.build}`,
      "-t",
      r.tag,
      "--network",
      "host",
      ...(hybridCgroups ? ["--isolation", "chroot"] : []),
      "-f",
      file,
      context,
    ]);
    expect(r.tag).toMatch(/^localhost\/dib-tmp-work-image-/);
    const name = r.calls.find((c) => c[1] === "create")?.[3] ?? "";
    expect(r.calls.slice(r.calls.indexOf(r.buildCall))).toEqual([
      r.buildCall,
      ["podman", "create", "--name", name, "--label", `dib.build-dir=${r.build}`, r.tag, "/bin/sh"],
      ["podman", "export", name],
      ["podman", "rm", "-f", name],
      ["podman", "rmi", "-f", r.tag],
    ]);
    // The container's filesystem is the tree, without the runtime's marker file.
    expect(readFileSync(join(r.target, "etc/os-release"), "utf8")).toBe("ID=fedora\n");
    expect(existsSync(join(r.target, ".containerenv"))).toBe(false);
  });

  it("first sweeps what killed builds left: containers and images whose build directory is gone", async () => {
    const r = await run("fedora-container");
    expect(r.calls[0]?.slice(0, 4)).toEqual(["podman", "ps", "--all", "--filter"]);
    expect(r.calls[0]?.[4]).toBe("label=dib.build-dir");
    expect(r.calls[1]?.slice(0, 4)).toEqual([
      "podman",
      "images",
      "--filter",
      "label=dib.build-dir",
    ]);
  });

  it("honours DIB_RELEASE, DIB_CONTAINERFILE_NETWORK_DRIVER, _BUILDOPTS, _RUNTIME=docker and DIB_CONTAINER_CONTEXT", async () => {
    const context = join(work.dir, "ctx");
    const r = await run("rocky-container", {
      DIB_RELEASE: "8",
      DIB_CONTAINERFILE_RUNTIME: "docker",
      DIB_CONTAINERFILE_NETWORK_DRIVER: "none",
      DIB_CONTAINERFILE_BUILDOPTS: "--pull=never --build-arg A=1",
      DIB_CONTAINER_CONTEXT: context,
    });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    expect(r.buildCall).toEqual([
      "docker",
      "build",
      "--label",
      `dib.build-dir=${r.build}`,
      "-t",
      r.tag,
      "--network",
      "none",
      "--pull=never",
      "--build-arg",
      "A=1",
      "-f",
      elementFile("rocky-container", "containerfiles", "8"),
      context,
    ]);
    expect(r.calls.map((c) => c.slice(0, 2).join(" "))).toContain("docker export");
  });

  it("DIB_CONTAINERFILE_DOCKERFILE replaces the element's file; --isolation in BUILDOPTS wins", async () => {
    const own = join(work.dir, "Containerfile");
    writeFileSync(own, "FROM scratch\n");
    const r = await run("fedora-container", {
      DIB_CONTAINERFILE_DOCKERFILE: own,
      DIB_CONTAINERFILE_BUILDOPTS: "--isolation oci",
    });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    expect(r.buildCall.slice(-6)).toEqual([
      "host",
      "--isolation",
      "oci",
      "-f",
      own,
      r.buildCall.at(-1),
    ]);
  });

  it("with buildah, the build writes the filesystem out itself and nothing else is left", async () => {
    const r = await run("almalinux-container", { DIB_CONTAINERFILE_RUNTIME: "buildah" });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    const output = r.buildCall.find((w) => w.startsWith("type=tar,dest=")) ?? "";
    expect(output).toMatch(new RegExp(`^type=tar,dest=${r.build}/containerfile-rootfs\\.`));
    expect(r.calls.at(-1)).toEqual(["buildah", "rmi", "-f", r.tag]);
    expect(readFileSync(join(r.target, "etc/os-release"), "utf8")).toBe("ID=fedora\n");
    expect(readdirSync(r.build)).toEqual([]);
  });

  it("removes the container and the image when the export fails", async () => {
    const r = await run("fedora-container", { FAKE_FAIL: "export" });
    expect(r.result.exitCode).not.toBe(0);
    const name = r.calls.find((c) => c[1] === "create")?.[3] ?? "";
    expect(r.calls.slice(-2)).toEqual([
      ["podman", "rm", "-f", name],
      ["podman", "rmi", "-f", r.tag],
    ]);
  });

  it("removes the image when the build fails, and creates no container", async () => {
    const r = await run("fedora-container", { FAKE_FAIL: "build" });
    expect(r.result.exitCode).not.toBe(0);
    expect(r.calls.some((c) => c[1] === "create")).toBe(false);
    expect(r.calls.at(-1)).toEqual(["podman", "rmi", "-f", r.tag]);
  });

  it("in a dib build, records the image and the container in the ledger before making them, and drops each once it is gone", async () => {
    const dir = ledgerDir();
    // inspect fails: what the trap removed is gone.
    const r = await run("fedora-container", {
      DIB_LEDGER_DIR: dir,
      PATH: `${cliBin}:${tools.bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
      FAKE_FAIL: "inspect",
    });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    const name = r.calls.find((c) => c[1] === "create")?.[3] ?? "";
    const ledgerCall = (op: string, object: string, id: string) => [
      "dib-cli",
      "internal",
      `ledger-${op}`,
      "--runtime",
      "podman",
      object,
      id,
    ];
    expect(r.calls.slice(r.calls.indexOf(r.buildCall) - 1)).toEqual([
      ledgerCall("hold", "image", r.tag),
      r.buildCall,
      ledgerCall("hold", "container", name),
      ["podman", "create", "--name", name, "--label", `dib.build-dir=${r.build}`, r.tag, "/bin/sh"],
      ["podman", "export", name],
      ["podman", "rm", "-f", name],
      ["podman", "inspect", "--type", "container", name],
      ledgerCall("release", "container", name),
      ["podman", "rmi", "-f", r.tag],
      ["podman", "inspect", "--type", "image", r.tag],
      ledgerCall("release", "image", r.tag),
    ]);
    expect(ledgerRecords(dir)).toEqual([
      {
        resource: { kind: "runtime-object", runtime: "podman", object: "image", name: r.tag },
        released: true,
      },
      {
        resource: { kind: "runtime-object", runtime: "podman", object: "container", name },
        released: true,
      },
    ]);
  }, 60_000);

  it("in a dib build, what the trap could not remove stays in the ledger for undo and dib-cli cleanup", async () => {
    const dir = ledgerDir();
    // rm fails and inspect finds the container still there.
    const r = await run("fedora-container", {
      DIB_LEDGER_DIR: dir,
      PATH: `${cliBin}:${tools.bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
      FAKE_FAIL: "rm",
    });
    expect(r.result.exitCode, r.result.stderr).toBe(0);
    expect(r.calls.filter((c) => c[2] === "ledger-release")).toEqual([]);
    expect(ledgerRecords(dir).map((e) => e.released)).toEqual([false, false]);
  }, 60_000);

  it("in a dib build without dib-cli on PATH, fails before making anything", async () => {
    const r = await run("fedora-container", { DIB_LEDGER_DIR: ledgerDir() });
    expect(r.result.exitCode).not.toBe(0);
    expect(r.result.stderr).toContain("dib-cli is not on PATH");
    expect(r.calls).toEqual([]);
  });

  it("refuses a release without a Containerfile before running anything", async () => {
    const r = await run("fedora-container", { DIB_RELEASE: "34" });
    expect(r.result.exitCode).not.toBe(0);
    expect(r.result.stderr).toContain("no Containerfile for release 34");
    expect(r.calls).toEqual([]);
  });

  it("refuses an unknown runtime", async () => {
    const r = await run("fedora-container", { DIB_CONTAINERFILE_RUNTIME: "lxc" });
    expect(r.result.exitCode).not.toBe(0);
    expect(r.result.stderr).toContain("use podman, buildah or docker");
  });
});
