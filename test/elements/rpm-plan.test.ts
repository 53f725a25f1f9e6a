import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expectHostClean, hostSnapshot, isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { elementFile, runScript, tempDir } from "./element-harness.js";
import { makeStandIns } from "./rpm-standins.js";

/**
 * Plan tests of the rpm family's hooks: the real scripts run with recording stand-ins for
 * dnf, yum and rpm (the family's mirrors cannot be reached from here), and the recorded
 * commands, repository files and rpm database paths are compared with what each
 * distribution documents.
 */
const work = tempDir("rpm-plan");
afterAll(() => work.remove());
const tools = makeStandIns(join(work.dir, "tools"));
const PATH = `${tools.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Runs `script` after sourcing the environment.d files of `elements`, as the builder does. */
function runWithElements(
  script: string,
  elements: string[],
  env: Record<string, string>,
  args: string[] = [],
) {
  const envFiles = elements.flatMap((element) => {
    const dir = elementFile(element, "environment.d");
    return existsSync(dir)
      ? readdirSync(dir)
          .sort()
          .map((f) => join(dir, f))
      : [];
  });
  return runScript(
    "/bin/bash",
    [
      "-c",
      'script=$1; shift; n=$1; shift; for ((i = 0; i < n; i++)); do . "$1"; shift; done; exec "$script" "$@"',
      "run",
      script,
      String(envFiles.length),
      ...envFiles,
      ...args,
    ],
    { PATH, ...env },
  );
}

const centosElements = ["centos-minimal", "yum-minimal", "redhat-common"];
let caseNo = 0;
function freshTree() {
  caseNo += 1;
  const target = join(work.dir, `tree-${caseNo}`);
  const build = join(work.dir, `build-${caseNo}`);
  mkdirSync(target, { recursive: true });
  mkdirSync(build, { recursive: true });
  return { target, build };
}

async function bootstrap(release: string, env: Record<string, string> = {}) {
  tools.reset();
  const { target, build } = freshTree();
  const result = await runWithElements(
    elementFile("yum-minimal", "root.d", "08-yum-chroot"),
    centosElements,
    {
      TARGET_ROOT: target,
      TMP_BUILD_DIR: build,
      // The hooks tree holds every element's files: centos-minimal's yum.repos.d/ among them.
      TMP_HOOKS_PATH: elementFile("centos-minimal"),
      DIB_RELEASE: release,
      ARCH: "amd64",
      ...env,
    },
  );
  const calls = tools.calls();
  const dnf = (sub: string) =>
    calls.find((c) => c[0] === "dnf" && c.includes(sub) && !c.includes("--downloadonly"));
  const resolve = calls.find((c) => c[0] === "dnf" && c.includes("--downloadonly"));
  const after = (call: string[] | undefined, word: string) =>
    call ? call.slice(call.indexOf(word) + 1) : [];
  const names = (call: string[] | undefined, sub: string) =>
    after(call, sub).filter((w, i, all) => !w.startsWith("-") && all[i - 1] !== "--destdir");
  return {
    result,
    target,
    build,
    calls,
    download: dnf("download"),
    resolve,
    install: calls.filter((c) => c[0] === "dnf" && c.includes("install")).at(-1),
    rpm: calls.find((c) => c[0] === "rpm"),
    releasePackages: names(dnf("download"), "download"),
    basePackages: names(resolve, "install"),
    option: (call: string[] | undefined, name: string) => after(call, name)[0],
  };
}

describe("yum-minimal bootstrap of centos-minimal, per release", () => {
  it("9-stream: CentOS Stream mirror, dnf, /var/lib/rpm, the host's database rebuilt in place", async () => {
    const b = await bootstrap("9-stream");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    expect(b.releasePackages).toEqual([
      "centos-stream-release",
      "centos-stream-repos",
      "centos-gpg-keys",
    ]);
    expect(b.option(b.download, "--releasever")).toBe("9");
    expect(b.option(b.download, "--forcearch")).toBe("x86_64");
    // rpm --root puts the release packages in without their dependencies.
    expect(b.rpm?.slice(0, 6)).toEqual([
      "rpm",
      "--root",
      b.target,
      "--dbpath",
      "/var/lib/rpm",
      "--nodeps",
    ]);
    expect(b.rpm?.filter((w) => w.endsWith(".rpm")).map((f) => f.split("/").at(-1))).toEqual([
      "centos-gpg-keys-1.0-1.noarch.rpm",
      "centos-stream-release-1.0-1.noarch.rpm",
      "centos-stream-repos-1.0-1.noarch.rpm",
    ]);
    expect(b.option(b.resolve, "--installroot")).toBe(b.target);
    expect(b.basePackages).toEqual(["dnf", "dnf-plugins-core", "curl", "glibc-langpack-en"]);
    expect(b.install?.at(-1)).toMatch(/\/packages\/\*\.rpm$|\.rpm$/);
    expect(tools.dbpath()).toBe("/var/lib/rpm");
    const repo = tools.repos()["centos.repo"] ?? "";
    expect(repo).toContain(
      "baseurl=https://mirror.stream.centos.org/9-stream/BaseOS/$basearch/os/",
    );
    expect(repo).toContain(
      "baseurl=https://mirror.stream.centos.org/9-stream/AppStream/$basearch/os/",
    );
    // The host's dnf reads keys from host paths: they point into the tree for the bootstrap.
    expect(repo).toContain(`gpgkey=file://${b.target}/etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial`);
    const inImage = readFileSync(join(b.target, "etc/yum.repos.d/centos.repo"), "utf8");
    expect(inImage).toContain("gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial\n");
    expect(existsSync(join(b.target, "var/tmp/yum-minimal-rpms"))).toBe(false);
    expect(readFileSync(join(b.target, "etc/locale.conf"), "utf8")).toBe("LANG=en_US.UTF-8\n");
    expect(readdirSync(b.build)).toEqual([]);
  });

  it("10-stream: the rpm database moves to /usr/lib/sysimage/rpm and the key is the SHA-256 one", async () => {
    const b = await bootstrap("10-stream");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    expect(b.option(b.download, "--releasever")).toBe("10");
    expect(b.rpm?.slice(3, 5)).toEqual(["--dbpath", "/usr/lib/sysimage/rpm"]);
    expect(tools.dbpath()).toBe("/usr/lib/sysimage/rpm");
    const repo = tools.repos()["centos.repo"] ?? "";
    expect(repo).toContain(
      "baseurl=https://mirror.stream.centos.org/10-stream/BaseOS/$basearch/os/",
    );
    expect(repo).toContain("RPM-GPG-KEY-centosofficial-SHA256");
  });

  it("8-stream: the vault, and the packages kept for the chroot to register in Berkeley DB", async () => {
    const b = await bootstrap("8-stream");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    expect(b.option(b.download, "--releasever")).toBe("8");
    expect(tools.dbpath()).toBe("/var/lib/rpm");
    const repo = tools.repos()["centos.repo"] ?? "";
    expect(repo).toContain("baseurl=https://vault.centos.org/8-stream/BaseOS/$basearch/os/");
    expect(repo).toContain("baseurl=https://vault.centos.org/8-stream/extras/$basearch/os/");
    expect(readdirSync(join(b.target, "var/tmp/yum-minimal-rpms")).sort()).toEqual([
      "centos-gpg-keys-1.0-1.noarch.rpm",
      "centos-stream-release-1.0-1.noarch.rpm",
      "centos-stream-repos-1.0-1.noarch.rpm",
      "curl-1.0-1.noarch.rpm",
      "dnf-1.0-1.noarch.rpm",
      "dnf-plugins-core-1.0-1.noarch.rpm",
      "glibc-langpack-en-1.0-1.noarch.rpm",
    ]);
  });

  it("7: the 7.9.2009 vault, centos-release, yum and yum-utils instead of dnf", async () => {
    const b = await bootstrap("7");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    expect(b.releasePackages).toEqual(["centos-release"]);
    expect(b.option(b.download, "--releasever")).toBe("7");
    expect(b.basePackages).toEqual(["yum", "yum-utils", "curl"]);
    expect(tools.dbpath()).toBe("/var/lib/rpm");
    const repo = tools.repos()["centos.repo"] ?? "";
    expect(repo).toContain("baseurl=https://vault.centos.org/7.9.2009/os/$basearch/");
    expect(repo).toContain("baseurl=https://vault.centos.org/7.9.2009/updates/$basearch/");
    expect(repo).toContain("RPM-GPG-KEY-CentOS-7");
    expect(existsSync(join(b.target, "var/tmp/yum-minimal-rpms/yum-1.0-1.noarch.rpm"))).toBe(true);
  });

  it("honours DIB_DISTRIBUTION_MIRROR, ARCH, DIB_YUM_MINIMAL_EXTRA_REPOS and DIB_YUM_MINIMAL_BOOTSTRAP_PACKAGES", async () => {
    const extra = join(work.dir, "extra.repo");
    writeFileSync(extra, "[extra]\nname=extra\nbaseurl=http://127.0.0.1:9/extra/\ngpgcheck=0\n");
    const b = await bootstrap("9-stream", {
      ARCH: "arm64",
      DIB_DISTRIBUTION_MIRROR: "http://mirror.example/centos-stream/9-stream",
      DIB_YUM_MINIMAL_EXTRA_REPOS: extra,
      DIB_YUM_MINIMAL_BOOTSTRAP_PACKAGES: "vim-minimal tar",
    });
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    expect(b.option(b.download, "--forcearch")).toBe("aarch64");
    expect(b.basePackages).toEqual([
      "dnf",
      "dnf-plugins-core",
      "curl",
      "glibc-langpack-en",
      "vim-minimal",
      "tar",
    ]);
    const repos = tools.repos();
    expect(Object.keys(repos)).toEqual(["centos.repo", "extra.repo"]);
    expect(repos["centos.repo"]).toContain(
      "baseurl=http://mirror.example/centos-stream/9-stream/BaseOS/$basearch/os/",
    );
    expect(readdirSync(join(b.target, "etc/yum.repos.d")).sort()).toEqual([
      "centos.repo",
      "extra.repo",
    ]);
  });

  it("takes its repositories from DIB_YUM_MINIMAL_BOOTSTRAP_REPOS when set", async () => {
    const own = join(work.dir, "own-repos");
    mkdirSync(own);
    writeFileSync(join(own, "local.repo"), "[local]\nbaseurl=@DIB_DISTRIBUTION_MIRROR@/os/\n");
    const b = await bootstrap("9-stream", {
      DIB_YUM_MINIMAL_BOOTSTRAP_REPOS: own,
      DIB_DISTRIBUTION_MIRROR: "http://127.0.0.1:9/repo",
    });
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    expect(tools.repos()).toEqual({
      "local.repo": "[local]\nbaseurl=http://127.0.0.1:9/repo/os/\n",
    });
  });

  it("refuses a release it has no repository files for, before running dnf", async () => {
    const b = await bootstrap("11-stream");
    expect(b.result.exitCode).not.toBe(0);
    expect(b.result.stderr).toContain("no repository files (*.repo)");
    expect(b.calls).toEqual([]);
  });
});

describe("yum-minimal cleanup.d/95-yum-minimal-restore-repos", () => {
  const restore = elementFile("yum-minimal", "cleanup.d", "95-yum-minimal-restore-repos");
  async function treeWithRepos(release: string, env: Record<string, string> = {}) {
    const b = await bootstrap(release, env);
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    // What the release package installed, moved aside by the bootstrap.
    mkdirSync(join(b.target, "etc/yum.repos.d.dib-orig"));
    writeFileSync(join(b.target, "etc/yum.repos.d.dib-orig/centos.repo"), "[baseos]\nmetalink=x\n");
    return b;
  }

  it("puts the release package's files back for a maintained release", async () => {
    const b = await treeWithRepos("9-stream", { DIB_DISTRIBUTION_MIRROR: "http://127.0.0.1:9/m" });
    const r = await runWithElements(restore, centosElements, {
      TARGET_ROOT: b.target,
      DIB_RELEASE: "9-stream",
      DIB_DISTRIBUTION_MIRROR: "http://127.0.0.1:9/m",
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(b.target, "etc/yum.repos.d/centos.repo"), "utf8")).toBe(
      "[baseos]\nmetalink=x\n",
    );
    expect(existsSync(join(b.target, "etc/yum.repos.d.dib-orig"))).toBe(false);
  });

  it("keeps the vault files of an end-of-life release, with the default vault mirror written back", async () => {
    const env = { DIB_DISTRIBUTION_MIRROR: "http://127.0.0.1:9/vault8" };
    const b = await treeWithRepos("8-stream", env);
    const r = await runWithElements(restore, centosElements, {
      TARGET_ROOT: b.target,
      DIB_RELEASE: "8-stream",
      ...env,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const repo = readFileSync(join(b.target, "etc/yum.repos.d/centos.repo"), "utf8");
    expect(repo).toContain("baseurl=https://vault.centos.org/8-stream/BaseOS/$basearch/os/");
    expect(repo).not.toContain("127.0.0.1");
    expect(existsSync(join(b.target, "etc/yum.repos.d.dib-orig"))).toBe(false);
  });
});

describe("yum's install-packages", () => {
  const installPackages = elementFile("yum", "bin", "install-packages");
  const binDir = join(work.dir, "image-bin");
  mkdirSync(binDir, { recursive: true });
  // The real pkg-map and map-packages, as install-bin puts them in the image.
  writeFileSync(
    join(binDir, "pkg-map"),
    `#!/bin/sh\nexec python3 ${elementFile("pkg-map", "bin", "pkg-map")} "$@"\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(binDir, "map-packages"),
    `#!/bin/sh\nexec ${elementFile("redhat-common", "bin", "map-packages")} "$@"\n`,
    { mode: 0o755 },
  );
  const maps = join(work.dir, "pkg-maps");
  mkdirSync(maps, { recursive: true });
  writeFileSync(join(maps, "yum-minimal"), readFileSync(elementFile("yum-minimal", "pkg-map")));
  const blacklist = join(work.dir, "yum-blacklist");

  beforeEach(() => {
    tools.reset();
    writeFileSync(blacklist, "");
  });
  const run = (args: string[], env: Record<string, string> = {}) =>
    runScript(installPackages, args, {
      PATH: `${tools.bin}:${binDir}:/usr/bin:/bin`,
      DISTRO_NAME: "centos",
      DIB_RELEASE: "9-stream",
      DIB_PKG_MAP_DIR: maps,
      DIB_YUM_BLACKLIST: blacklist,
      YUM: "dnf",
      ...env,
    });

  it("installs with dnf -y -v, then marks the packages as installed by the user", async () => {
    const r = await run(["--noninteractive", "tcpdump", "lsof"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(tools.calls()).toEqual([
      ["dnf", "-y", "-v", "install", "tcpdump", "lsof"],
      ["dnf", "--version"],
      ["dnf", "-y", "mark", "install", "tcpdump", "lsof"],
    ]);
  });

  it("marks with `mark user` under dnf5", async () => {
    const r = await runScript(installPackages, ["lsof"], {
      PATH: `${tools.bin}:${binDir}:/usr/bin:/bin`,
      YUM: "dnf",
      FAKE_DNF_VERSION: "dnf5 version 5.2.5",
      DIB_YUM_BLACKLIST: blacklist,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(tools.calls().at(-1)).toEqual(["dnf", "-y", "mark", "user", "lsof"]);
  });

  it("maps through an element's pkg-map with -m (CentOS Stream 10 has dhcpcd, not dhcp-client)", async () => {
    const r9 = await run(["-m", "yum-minimal", "dhcp_client", "initscripts"]);
    expect(r9.exitCode, r9.stderr).toBe(0);
    expect(tools.calls()[0]).toEqual(["dnf", "-y", "-v", "install", "dhcp-client", "initscripts"]);
    tools.reset();
    const r10 = await run(["-m", "yum-minimal", "dhcp_client", "initscripts"], {
      DIB_RELEASE: "10-stream",
    });
    expect(r10.exitCode, r10.stderr).toBe(0);
    expect(tools.calls()[0]).toEqual(["dnf", "-y", "-v", "install", "dhcpcd"]);
  });

  it("renames Debian names through map-packages without -m", async () => {
    const r = await run(["open-iscsi", "build-essential", "curl"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(tools.calls()[0]).toEqual([
      "dnf",
      "-y",
      "-v",
      "install",
      "iscsi-initiator-utils",
      "gcc",
      "gcc-c++",
      "make",
      "curl",
    ]);
  });

  it("removes with -e, updates everything with -u, downloads with -d", async () => {
    expect((await run(["-e", "linux-firmware"])).exitCode).toBe(0);
    expect((await run(["-u"])).exitCode).toBe(0);
    expect((await run(["-d", join(work.dir, "dl"), "kernel"])).exitCode).toBe(0);
    expect((await run(["-d", join(work.dir, "dl7"), "kernel"], { YUM: "yum" })).exitCode).toBe(0);
    expect(tools.calls()).toEqual([
      ["dnf", "-y", "-v", "remove", "linux-firmware"],
      ["dnf", "-y", "-v", "update"],
      ["dnf", "-y", "-v", "download", "--resolve", `--destdir=${join(work.dir, "dl")}`, "kernel"],
      [
        "yum",
        "-y",
        "-v",
        "install",
        "--downloadonly",
        `--downloaddir=${join(work.dir, "dl7")}`,
        "kernel",
      ],
    ]);
  });

  it("skips blacklisted packages and says so; an empty list runs nothing", async () => {
    writeFileSync(blacklist, "tcpdump\n");
    const r = await run(["tcpdump", "lsof"]);
    expect(r.stderr).toContain("tcpdump is in");
    expect(tools.calls()[0]).toEqual(["dnf", "-y", "-v", "install", "lsof"]);
    tools.reset();
    const empty = await run(["tcpdump"]);
    expect(empty.exitCode).toBe(0);
    expect(empty.stdout).toBe("Not running install-packages install with empty packages list");
    expect(tools.calls()).toEqual([]);
  });

  it("uses yum without marking on CentOS 7", async () => {
    const r = await run(["lsof"], { YUM: "yum", DIB_RELEASE: "7" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(tools.calls()).toEqual([["yum", "-y", "-v", "install", "lsof"]]);
  });
});

describe("the operating-system elements' environment", () => {
  const show = (elements: string[], env: Record<string, string> = {}) =>
    runWithElements("/usr/bin/env", elements, { PATH: "/usr/bin:/bin", ...env }, []).then((r) =>
      Object.fromEntries(r.stdout.split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2))),
    );

  it.each([
    ["7", "yum", "https://vault.centos.org/7.9.2009", "1"],
    ["8-stream", "dnf", "https://vault.centos.org/8-stream", "1"],
    ["9-stream", "dnf", "https://mirror.stream.centos.org/9-stream", undefined],
    ["10-stream", "dnf", "https://mirror.stream.centos.org/10-stream", undefined],
  ])("centos-minimal %s: YUM=%s, mirror %s", async (release, yum, mirror, keep) => {
    const env = await show(centosElements, { DIB_RELEASE: release });
    expect(env.DISTRO_NAME).toBe("centos");
    expect(env.YUM).toBe(yum);
    expect(env.DIB_DISTRIBUTION_MIRROR).toBe(mirror);
    expect(env.DIB_YUM_MINIMAL_KEEP_BUILD_REPOS).toBe(keep);
    expect(env.EFI_BOOT_DIR).toBe("EFI/centos");
    expect(env.DIB_INIT_SYSTEM).toBe("systemd");
    expect(env.DIB_YUM_MINIMAL_CREATE_INTERFACES).toBe("0");
  });

  it("centos-minimal defaults to 9-stream", async () => {
    expect((await show(centosElements)).DIB_RELEASE).toBe("9-stream");
  });
});

describe.runIf(isRoot)(`yum's shared package cache is a real bind mount${rootOnlyReason}`, () => {
  it("binds $DIB_IMAGE_CACHE/yum/<arch>/<release> onto var/cache/dnf and unmounts it after", async () => {
    const before = hostSnapshot();
    const { target } = freshTree();
    const cache = join(work.dir, "image-cache");
    const env = {
      TARGET_ROOT: target,
      DIB_IMAGE_CACHE: cache,
      DIB_RELEASE: "9-stream",
      ARCH: "amd64",
      YUM: "dnf",
    };
    try {
      const r = await runScript(elementFile("yum", "root.d", "50-yum-cache"), [], env);
      expect(r.exitCode, r.stderr).toBe(0);
      writeFileSync(join(target, "var/cache/dnf/kept.rpm"), "x");
      expect(existsSync(join(cache, "yum/amd64/9-stream/kept.rpm"))).toBe(true);
      // Idempotent: a second run does not stack a second bind.
      expect(
        (await runScript(elementFile("yum", "root.d", "50-yum-cache"), [], env)).exitCode,
      ).toBe(0);
      const unmount = await runScript(
        elementFile("yum", "post-root.d", "99-unmount-yum-cache"),
        [],
        {
          ...env,
          TMP_MOUNT_PATH: target,
        },
      );
      expect(unmount.exitCode, unmount.stderr).toBe(0);
      const late = await runScript(
        elementFile("yum", "cleanup.d", "60-unmount-yum-cache"),
        [],
        env,
      );
      expect(late.exitCode).toBe(0);
      expect(existsSync(join(target, "var/cache/dnf/kept.rpm"))).toBe(false);
    } finally {
      await execa("umount", [join(target, "var/cache/dnf")], { reject: false });
      expectHostClean(before, [target]);
    }
  });
});

describe("redhat-common", () => {
  const cleanup = elementFile("redhat-common", "finalise.d", "01-clean-old-kernels");
  const run = (env: Record<string, string>) =>
    runScript(cleanup, [], { PATH: `${tools.bin}:/usr/bin:/bin`, ...env });

  it("removes every kernel but the newest with dnf", async () => {
    tools.reset();
    const r = await run({
      FAKE_REPOQUERY: "kernel-core-0:5.14.0-1.el9.x86_64\nkernel-0:5.14.0-1.el9.x86_64\n",
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(tools.calls()).toEqual([
      ["dnf", "repoquery", "--installonly", "--latest-limit=-1", "-q"],
      ["dnf", "-y", "remove", "kernel-core-0:5.14.0-1.el9.x86_64", "kernel-0:5.14.0-1.el9.x86_64"],
    ]);
  });

  it("does nothing with one kernel, or with DIB_DISABLE_KERNEL_CLEANUP=1", async () => {
    tools.reset();
    expect((await run({})).exitCode).toBe(0);
    expect(tools.calls()).toEqual([
      ["dnf", "repoquery", "--installonly", "--latest-limit=-1", "-q"],
    ]);
    tools.reset();
    expect(
      (await run({ DIB_DISABLE_KERNEL_CLEANUP: "1", FAKE_REPOQUERY: "kernel-1" })).exitCode,
    ).toBe(0);
    expect(tools.calls()).toEqual([]);
  });

  it("refuses a DIB_LOCAL_IMAGE that is not a file", async () => {
    const check = elementFile("redhat-common", "root.d", "05-check-local-image");
    const bad = await runScript(check, [], { DIB_LOCAL_IMAGE: join(work.dir, "missing.qcow2") });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain("is not a file");
    expect((await runScript(check, [], {})).exitCode).toBe(0);
  });
});

describe("yum's build-time repository files (DIB_YUM_REPO_CONF)", () => {
  it("are copied in for the build and removed in cleanup.d, unless kept", async () => {
    const { target } = freshTree();
    const repo = join(work.dir, "site.repo");
    writeFileSync(repo, "[site]\nbaseurl=http://127.0.0.1:9/site/\n");
    const env = { TMP_MOUNT_PATH: target, TARGET_ROOT: target, DIB_YUM_REPO_CONF: repo };
    const add = await runScript(elementFile("yum", "extra-data.d", "99-yum-repo-conf"), [], env);
    expect(add.exitCode, add.stderr).toBe(0);
    expect(readFileSync(join(target, "etc/yum.repos.d/site.repo"), "utf8")).toContain("[site]");
    // The image's own file of the same name is never replaced.
    const again = await runScript(elementFile("yum", "extra-data.d", "99-yum-repo-conf"), [], env);
    expect(again.exitCode).not.toBe(0);
    const remove = elementFile("yum", "cleanup.d", "99-remove-yum-repo-conf");
    expect((await runScript(remove, [], { ...env, DIB_YUM_REPO_CONF_KEEP: "1" })).exitCode).toBe(0);
    expect(existsSync(join(target, "etc/yum.repos.d/site.repo"))).toBe(true);
    expect((await runScript(remove, [], env)).exitCode).toBe(0);
    expect(existsSync(join(target, "etc/yum.repos.d/site.repo"))).toBe(false);
  });
});
