import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bootTest } from "@dib/boot-test";
import { Host } from "@dib/host";
import {
  expectHostClean,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
  testImageCache,
} from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * An element tree written for DIB by another project builds unchanged and boots: the
 * fixture tree's hooks source $_LIB/img-functions, common-functions and die in every
 * phase, call svc-map, read DIB_* variables, DIB_ENV, DIB_ARGS and DIB_PYTHON_EXEC, use
 * sudo outside the chroot (the build runs as root on a host without sudo), and install the
 * agent from a source-repository file pointing at a git repository this test makes, with
 * the "source" install type. One build (debian-minimal vm, bookworm) and one boot.
 */
const tree = fileURLToPath(new URL("./fixtures/third-party-tree", import.meta.url));
const cache = testImageCache;
const skip = process.env.DIB_TEST_THIRD_PARTY_TREE === "0";
const reason = skip ? " (skipped: DIB_TEST_THIRD_PARTY_TREE=0)" : rootOnlyReason;

const AGENT = `#!/bin/sh
# acme-agent: prints its version, or (--run, from its unit) records that it ran at boot.
set -eu
case "\${1:-}" in
  --version) echo "acme-agent 1.2.3" ;;
  --run) mkdir -p /run/acme-agent; grep listen /etc/acme/agent.conf >/run/acme-agent/ran ;;
  *) echo "usage: acme-agent --version|--run" >&2; exit 2 ;;
esac
`;
const UNIT = `[Unit]
Description=acme agent
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/acme-agent --run
[Install]
WantedBy=multi-user.target
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "acme",
      GIT_AUTHOR_EMAIL: "acme@example.invalid",
      GIT_COMMITTER_NAME: "acme",
      GIT_COMMITTER_EMAIL: "acme@example.invalid",
    },
  });
}

/** The agent's upstream repository, as a local git repository on branch main. */
function makeAgentRepository(dir: string): string {
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "bin", "acme-agent"), AGENT);
  chmodSync(join(dir, "bin", "acme-agent"), 0o755);
  writeFileSync(join(dir, "acme-agent.service"), UNIT);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "acme-agent 1.2.3");
  return git(dir, "rev-parse", "HEAD").trim();
}

describe.runIf(isRoot && !skip)(`a third-party element tree builds and boots${reason}`, () => {
  let work = "";
  let image = "";
  let built: Promise<void>;
  let commit = "";
  const host = new Host();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "dib-e2e-tree-"));
    const repo = join(work, "acme-agent");
    commit = makeAgentRepository(repo);
    const tmpDir = join(work, "tmp");
    mkdirSync(tmpDir);
    const out = join(work, "acme");
    image = `${out}.qcow2`;
    const before = hostSnapshot();
    built = runCli(["debian-minimal", "vm", "devuser", "acme-agent", "-o", out], {
      env: {
        DIB_RELEASE: "bookworm",
        DIB_IMAGE_CACHE: cache,
        ELEMENTS_PATH: tree,
        TMP_DIR: tmpDir,
        DIB_DEV_USER_USERNAME: "devuser",
        DIB_DEV_USER_PASSWORD: "devuser",
        DIB_DEV_USER_PWDLESS_SUDO: "yes",
        DIB_ACME_GREETING: "hello from the test",
        DIB_REPOLOCATION_acme_agent: repo,
        DIB_INSTALLTYPE_acme_agent: "source",
      },
    }).then((result) => {
      if (result.exitCode !== 0) {
        throw new Error(`build failed (${result.exitCode})\n${result.stderr.slice(-6000)}`);
      }
      expectHostClean(before, [tmpDir]);
    });
    built.catch(() => undefined);
  });

  afterAll(async () => {
    await built?.catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("builds with every hook's library calls working, and the guest shows what each did", async () => {
    await built;
    expect(statSync(image).size).toBeGreaterThan(100 * 1024 * 1024);
    const result = await bootTest({
      host,
      image,
      login: { user: "devuser", password: "devuser" },
      timeoutMs: 600_000,
      commands: [
        "cat /etc/acme/root.d",
        "cat /etc/acme/root-sudo /etc/acme/extra-data.d /etc/acme/install-type",
        "cat /etc/acme/services",
        "cat /etc/acme/post-install.d",
        "cat /etc/acme/post-root.d",
        "cat /etc/acme/finalise.d; cat /etc/acme/cleanup.d; ls /boot",
        "sudo -n systemctl is-active acme-agent; cat /run/acme-agent/ran",
        "svc-map acme-web acme-cache; cat /usr/share/svc-map/services",
        "cat /etc/dib-source-repositories; sudo -n sh -c 'cat /etc/dib-manifests/dib-manifest-git-*'",
      ],
    });
    const tail = result.consoleTail.join("\n");
    expect(result.ok, `${result.failure?.message ?? ""}\n${tail}`).toBe(true);
    const [root, sudo, services, postInstall, postRoot, boot, agent, svcMap, sources] =
      result.commandResults.map((c) => c.output);

    // root.d: DIB_* variables, DIB_ENV, DIB_ARGS, the host's python3 through sudo -E.
    expect(root).toContain("greeting=hello from the test");
    expect(root).toContain("flavor=standard");
    expect(root).toContain("python=3");
    expect(root).toMatch(/args=.*debian-minimal vm devuser acme-agent/);
    expect(root).toContain("dib_env=has-greeting");
    expect(root).toMatch(/tmpfs=(yes|no)/);
    // sudo env VAR=val, the element array, install types (source chosen, package not run).
    expect(sudo).toContain("step=root");
    expect(sudo).toContain("from=acme-agent");
    expect(sudo).toContain("type=source");
    expect(sudo).not.toContain("type=package");
    // svc-map: family (debian), default, an unmapped name, merged from two elements.
    expect(services).toContain("web=apache2");
    expect(services).toContain("db=mariadb");
    expect(services).toContain("cache=memcached-acme");
    expect(services).toContain("unknown=not-mapped");
    // _LIB inside the chroot, run_in_target from inside and outside.
    expect(postInstall).toContain("lib=/tmp/in_target.d/dib-lib");
    expect(postInstall).toContain("release=12");
    expect(postInstall).toContain("distro=debian");
    expect(postRoot).toContain("agent=acme-agent 1.2.3");
    // select_boot_kernel_initrd from the chroot (finalise.d) and from outside (cleanup.d).
    const pair = boot?.match(/(vmlinuz-\S+) (initrd\.img-\S+)/);
    expect(pair, boot).not.toBeNull();
    expect(boot?.split(pair?.[0] ?? "").length).toBe(3);
    // The agent installed from the local repository runs at boot.
    expect(agent).toMatch(/^active$/m);
    expect(agent).toContain("listen = 127.0.0.1:8125");
    expect(svcMap).toMatch(/^apache2\s*\nmemcached-acme/m);
    expect(svcMap).toContain("acme-db: mariadb");
    // The checkout came from the test's repository, at the commit it made.
    expect(sources).toContain("/opt/acme-agent");
    expect(sources).toMatch(new RegExp(`acme-agent git /opt/acme-agent \\S+ ${commit}`));
    process.stdout.write(
      `third-party tree: login prompt after ${result.secondsToPrompt} s (${result.accel}); agent commit ${commit.slice(0, 12)}\n`,
    );
  });
});
