import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * yum-minimal's bootstrap with the host's real dnf and rpm: small RPMs built here with
 * rpmbuild, a repository made with createrepo_c and served on 127.0.0.1 by the test, and
 * root.d/08-yum-chroot installing them into a tree as CentOS Stream 9 and 10 would.
 */
const elements = fileURLToPath(new URL("../../elements", import.meta.url));
const hook = join(elements, "yum-minimal", "root.d", "08-yum-chroot");

const haveTools = await Promise.all(
  ["dnf", "rpm", "rpmbuild", "createrepo_c"].map(
    async (t) => (await execa("sh", ["-c", `command -v ${t}`], { reject: false })).exitCode === 0,
  ),
).then((all) => all.every(Boolean));
const skip =
  rootOnlyReason || (haveTools ? "" : " (skipped: needs dnf, rpm, rpmbuild, createrepo_c)");

/** name → [requires, extra files] */
const packages: Record<string, [string, string[]]> = {
  "centos-stream-release": ["", ["/etc/os-release"]],
  "centos-stream-repos": ["", ["/etc/yum.repos.d/centos.repo"]],
  "centos-gpg-keys": ["", ["/etc/pki/rpm-gpg/RPM-GPG-KEY-dibtest"]],
  dnf: ["libdnf-dibtest", ["/usr/bin/dnf"]],
  "libdnf-dibtest": ["", []],
  "dnf-plugins-core": ["dnf", []],
  curl: ["", ["/usr/bin/curl"]],
  "glibc-langpack-en": ["", []],
  "hello-dibtest": ["", []],
  "never-installed": ["", []],
};

function spec(name: string, requires: string, files: string[]): string {
  const all = [`/usr/share/dib-test/${name}`, ...files];
  return [
    `Name: ${name}`,
    "Version: 1.0",
    "Release: 1",
    `Summary: dib test package ${name}`,
    "License: Apache-2.0",
    "BuildArch: noarch",
    ...(requires ? [`Requires: ${requires}`] : []),
    "%description",
    "A package built by dib's rpm bootstrap test.",
    "%install",
    ...all.map((f) => `mkdir -p %{buildroot}$(dirname ${f}) && echo ${name} > %{buildroot}${f}`),
    "%files",
    ...all,
    "",
  ].join("\n");
}

/** A static file server for the repository, bound to 127.0.0.1 on a free port. */
function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/"));
    try {
      const body = readFileSync(join(dir, path));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.runIf(skip === "")(`yum-minimal bootstraps with the host's dnf${skip}`, () => {
  const work = mkdtempSync(join(tmpdir(), "dib-rpm-bootstrap-"));
  let server: Server | undefined;
  let mirror = "";

  beforeAll(async () => {
    const top = join(work, "rpmbuild");
    const repo = join(work, "repo");
    mkdirSync(join(top, "SPECS"), { recursive: true });
    mkdirSync(repo);
    for (const [name, [requires, files]] of Object.entries(packages)) {
      const file = join(top, "SPECS", `${name}.spec`);
      writeFileSync(file, spec(name, requires, files));
      await execa("rpmbuild", ["--define", `_topdir ${top}`, "--quiet", "-bb", file]);
    }
    for (const rpm of readdirSync(join(top, "RPMS", "noarch"))) {
      writeFileSync(join(repo, rpm), readFileSync(join(top, "RPMS", "noarch", rpm)));
    }
    await execa("createrepo_c", ["--quiet", repo]);
    server = await serve(repo);
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 300_000);

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(work, { recursive: true, force: true });
  });

  async function bootstrap(release: string, id = release) {
    const target = join(work, `tree-${id}`);
    const build = join(work, `build-${id}`);
    const repos = join(work, `repos-${id}`);
    mkdirSync(build);
    mkdirSync(repos);
    writeFileSync(
      join(repos, "dibtest.repo"),
      "[dibtest]\nname=dib test $releasever $basearch\nbaseurl=@DIB_DISTRIBUTION_MIRROR@/\ngpgcheck=0\nenabled=1\n",
    );
    const result = await execa(hook, [], {
      reject: false,
      extendEnv: false,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: "/root",
        LC_ALL: "C",
        TARGET_ROOT: target,
        TMP_BUILD_DIR: build,
        TMP_HOOKS_PATH: join(work, "no-hooks"),
        DISTRO_NAME: "centos",
        DIB_RELEASE: release,
        ARCH: "amd64",
        YUM: "dnf",
        DIB_DISTRIBUTION_MIRROR: mirror,
        DIB_YUM_MINIMAL_BOOTSTRAP_REPOS: repos,
        DIB_YUM_MINIMAL_RELEASE_PACKAGES:
          "centos-stream-release centos-stream-repos centos-gpg-keys",
        DIB_YUM_MINIMAL_BOOTSTRAP_PACKAGES: "hello-dibtest",
      },
    });
    const query = (dbpath: string) =>
      execa("rpm", ["--root", target, "--dbpath", dbpath, "-qa", "--qf", "%{NAME}\\n"], {
        reject: false,
      });
    return { result, target, build, query };
  }

  const installed = [
    "centos-gpg-keys",
    "centos-stream-release",
    "centos-stream-repos",
    "curl",
    "dnf",
    "dnf-plugins-core",
    "glibc-langpack-en",
    "hello-dibtest",
    "libdnf-dibtest",
  ];

  it("9-stream: installs the release packages, dnf and its dependencies, with the rpm database at /var/lib/rpm", async () => {
    const b = await bootstrap("9-stream");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    const q = await b.query("/var/lib/rpm");
    expect(q.exitCode, q.stderr).toBe(0);
    expect(q.stdout.split("\n").sort()).toEqual(installed);
    expect(readdirSync(join(b.target, "var/lib/rpm"))).toContain("rpmdb.sqlite");
    // The release package's repo file waits aside; the build's file is in place.
    expect(readFileSync(join(b.target, "etc/yum.repos.d.dib-orig/centos.repo"), "utf8")).toBe(
      "centos-stream-repos\n",
    );
    expect(readFileSync(join(b.target, "etc/yum.repos.d/dibtest.repo"), "utf8")).toContain(
      `baseurl=${mirror}/`,
    );
    expect(readFileSync(join(b.target, "usr/bin/dnf"), "utf8")).toBe("dnf\n");
    // Nothing of the bootstrap's scratch space is left, in the tree or beside it.
    expect(readdirSync(b.build)).toEqual([]);
    expect(readdirSync(join(b.target, "var/tmp"))).toEqual([]);
    expect(readdirSync("/var/tmp").filter((f) => f.startsWith("dib-yum-minimal."))).toEqual([]);
  });

  it("10-stream: the same packages, with the rpm database at /usr/lib/sysimage/rpm", async () => {
    const b = await bootstrap("10-stream");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    const q = await b.query("/usr/lib/sysimage/rpm");
    expect(q.stdout.split("\n").sort()).toEqual(installed);
    const old = await b.query("/var/lib/rpm");
    expect(old.stdout.trim()).toBe("");
    expect(readdirSync(join(b.target, "usr/lib/sysimage/rpm"))).toContain("rpmdb.sqlite");
  });

  it("yum's install-packages installs, marks, removes and downloads with the real dnf in that tree", async () => {
    const b = await bootstrap("10-stream", "install-packages");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    // The image's dnf, as the chroot would run it: the host's dnf pointed at the tree, its
    // repository files and its rpm database (what a chroot gives dnf without flags).
    const bin = join(work, "image-bin");
    const home = join(work, "image-home");
    mkdirSync(bin, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, ".rpmmacros"), "%_dbpath /usr/lib/sysimage/rpm\n");
    writeFileSync(
      join(bin, "dnf"),
      [
        "#!/bin/sh",
        `HOME=${home} exec /usr/bin/dnf --installroot=${b.target} --releasever=10 \\`,
        `  --disableplugin='*' --enableplugin=download --setopt=reposdir=${b.target}/etc/yum.repos.d \\`,
        `  --setopt=cachedir=${join(work, "image-dnf-cache")} "$@"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(
      join(bin, "pkg-map"),
      `#!/bin/sh\nexec python3 ${join(elements, "pkg-map", "bin", "pkg-map")} "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const maps = join(work, "maps");
    mkdirSync(maps, { recursive: true });
    writeFileSync(
      join(maps, "demo"),
      JSON.stringify({
        family: { redhat: { greeting: "hello-dibtest", "never-installed": "never-installed" } },
      }),
    );
    const blacklist = join(work, "yum-blacklist");
    writeFileSync(blacklist, "never-installed\n");
    const installPackages = (args: string[]) =>
      execa(join(elements, "yum", "bin", "install-packages"), args, {
        reject: false,
        extendEnv: false,
        env: {
          PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
          HOME: "/root",
          DISTRO_NAME: "centos",
          DIB_RELEASE: "10-stream",
          DIB_PKG_MAP_DIR: maps,
          DIB_YUM_BLACKLIST: blacklist,
          YUM: "dnf",
        },
      });
    const has = async (name: string) =>
      (
        await execa("rpm", ["--root", b.target, "--dbpath", "/usr/lib/sysimage/rpm", "-q", name], {
          reject: false,
        })
      ).exitCode === 0;

    // hello-dibtest was pulled in by the bootstrap; remove it first so the install is real.
    const removed = await installPackages(["-e", "hello-dibtest"]);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(await has("hello-dibtest")).toBe(false);
    const installed = await installPackages([
      "--noninteractive",
      "-m",
      "demo",
      "greeting",
      "never-installed",
    ]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(await has("hello-dibtest")).toBe(true);
    expect(await has("never-installed")).toBe(false);
    // dnf mark install ran for real: the package is recorded as the user's, not a dependency.
    const reason = await execa(join(bin, "dnf"), [
      "-q",
      "repoquery",
      "--userinstalled",
      "hello-dibtest",
    ]);
    expect(reason.stdout).toContain("hello-dibtest");
    const downloads = join(work, "downloads");
    const downloaded = await installPackages(["-d", downloads, "dnf-plugins-core"]);
    expect(downloaded.exitCode, downloaded.stderr).toBe(0);
    // --resolve adds only what the tree lacks: dnf and libdnf-dibtest are installed.
    expect(readdirSync(downloads)).toEqual(["dnf-plugins-core-1.0-1.noarch.rpm"]);
  });

  it("8-stream: leaves the downloaded packages for the chroot's own rpm to register", async () => {
    const b = await bootstrap("8-stream");
    expect(b.result.exitCode, b.result.stderr).toBe(0);
    const kept = readdirSync(join(b.target, "var/tmp/yum-minimal-rpms"))
      .map((f) => f.replace(/-1\.0-1\.noarch\.rpm$/, ""))
      .sort();
    expect(kept).toEqual(installed);
  });
});
