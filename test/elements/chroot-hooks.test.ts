import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  elementFile,
  hasCommand,
  haveMinbase,
  minbaseSkipReason,
  minbaseTar,
  runScript,
} from "./element-harness.js";
import { hookInTree, useMinbaseTree } from "./minbase-tree.js";

const haveZstd = await hasCommand("zstd");
const reason = rootOnlyReason || minbaseSkipReason;

describe.runIf(isRoot && haveMinbase)(`Debian element hooks on a real root tree${reason}`, () => {
  // Belt and braces: a failed test must not leave a mount behind.
  const work = useMinbaseTree("chroot", { leftovers: ["var/cache/apt/archives", "proc"] });
  const root = work.root;
  const cache = join(work.dir, "cache");

  /** Runs an element's hook inside the tree, as the builder runs chroot phases. */
  const inChroot = (script: string, env: Record<string, string> = {}) =>
    hookInTree(root, script, env, { proc: true });

  it("keeps services from starting during the build and puts start-stop-daemon back afterwards", async () => {
    const block = await runScript(elementFile("dpkg", "root.d", "50-block-daemons"), [], {
      TARGET_ROOT: root,
    });
    expect(block.exitCode).toBe(0);
    const policy = await execa("chroot", [root, "/usr/sbin/policy-rc.d"], { reject: false });
    expect(policy.exitCode).toBe(101);
    const fake = await execa(
      "chroot",
      [root, "start-stop-daemon", "--start", "--exec", "/bin/false"],
      { reject: false },
    );
    expect(fake.exitCode).toBe(0);
    expect(fake.stderr).toContain("fake start-stop-daemon");
    expect((await execa("chroot", [root, "dpkg-divert", "--list"])).stdout).toContain(
      "start-stop-daemon.REAL",
    );

    const unblock = await runScript(elementFile("dpkg", "cleanup.d", "40-unblock-daemons"), [], {
      TARGET_ROOT: root,
    });
    expect(unblock.exitCode).toBe(0);
    expect(existsSync(join(root, "usr/sbin/policy-rc.d"))).toBe(false);
    expect((await execa("chroot", [root, "dpkg-divert", "--list"])).stdout).not.toContain(
      "start-stop-daemon",
    );
    const real = await execa("chroot", [root, "start-stop-daemon", "--version"], { reject: false });
    expect(real.exitCode).toBe(0);
    expect(real.stdout).toMatch(/^start-stop-daemon [0-9.]+ for Debian/);
  });

  it("shares the apt archive with the image cache until post-root.d", async () => {
    const archives = join(root, "var/cache/apt/archives");
    const env = {
      TARGET_ROOT: root,
      TMP_MOUNT_PATH: root,
      DIB_IMAGE_CACHE: cache,
      DISTRO_NAME: "debian",
      ARCH: "amd64",
    };
    expect(
      (await runScript(elementFile("dpkg", "root.d", "50-shared-apt-cache"), [], env)).exitCode,
    ).toBe(0);
    writeFileSync(join(archives, "kept.deb"), "x");
    // One archive per distribution and architecture.
    expect(existsSync(join(cache, "apt/debian-amd64/kept.deb"))).toBe(true);

    expect(
      (await runScript(elementFile("dpkg", "post-root.d", "99-unmount-apt-cache"), [], env))
        .exitCode,
    ).toBe(0);
    expect(existsSync(join(archives, "kept.deb"))).toBe(false);
    expect(
      (await runScript(elementFile("dpkg", "cleanup.d", "60-unmount-apt-cache"), [], env)).exitCode,
    ).toBe(0);
  });

  it("does not bind the apt cache with DIB_APT_LOCAL_CACHE=0", async () => {
    const env = {
      TARGET_ROOT: root,
      DIB_IMAGE_CACHE: cache,
      DISTRO_NAME: "debian",
      DIB_APT_LOCAL_CACHE: "0",
    };
    expect(
      (await runScript(elementFile("dpkg", "root.d", "50-shared-apt-cache"), [], env)).exitCode,
    ).toBe(0);
    const mounted = await execa("mountpoint", ["-q", join(root, "var/cache/apt/archives")], {
      reject: false,
    });
    expect(mounted.exitCode).not.toBe(0);
  });

  it("installs and removes packages with install-packages, offline for installed ones", async () => {
    copyFileSync(
      elementFile("dpkg", "bin", "install-packages"),
      join(root, "usr/local/bin/install-packages"),
    );
    await execa("chmod", ["0755", join(root, "usr/local/bin/install-packages")]);
    writeFileSync(
      join(root, "tmp/steps"),
      "#!/bin/bash\nset -e\ninstall-packages tzdata\ninstall-packages\ninstall-packages -e tzdata\n",
    );
    const r = await inChroot(join(root, "tmp/steps"));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("tzdata is already the newest version");
    expect(r.stdout).toContain("Not running install-packages install with empty packages list");
    expect(r.stdout).toContain("Removing tzdata");
  });

  it("makes install-packages wait while another build holds the shared apt archive", async () => {
    // Another build's apt run, as seen through the shared archive directory's lock.
    const holder = execa("flock", [join(root, "var/cache/apt/archives"), "sleep", "3"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(join(root, "tmp/steps"), "#!/bin/bash\nset -e\ninstall-packages apt\n");
    const started = Date.now();
    const r = await inChroot(join(root, "tmp/steps"));
    const waitedMs = Date.now() - started;
    await holder;
    expect(r.stderr).not.toContain("Could not get lock");
    expect(r.exitCode).toBe(0);
    expect(waitedMs).toBeGreaterThan(2_000);
  });

  it("writes the dpkg manifest as JSON", async () => {
    const r = await inChroot(elementFile("dpkg", "finalise.d", "99-write-dpkg-manifest"), {
      IMAGE_NAME: "out/demo",
      DIB_MANIFEST_IMAGE_DIR: "/etc/dib-manifests",
    });
    expect(r.exitCode).toBe(0);
    const manifest = JSON.parse(
      readFileSync(join(root, "etc/dib-manifests/dib-manifest-dpkg-demo"), "utf8"),
    );
    const dpkg = manifest.packages.find((p: { package: string }) => p.package === "dpkg");
    expect(dpkg).toMatchObject({ package: "dpkg", arch: "amd64" });
    expect(dpkg.version).toMatch(/^1\./);
  });

  it("gives the image a hostname, DHCP stanzas, a sudoers.d and a default locale", async () => {
    const env = {
      DISTRO_NAME: "debian",
      DIB_NETWORK_INTERFACE_NAMES: "eth0 eth1",
      DIB_DEBOOTSTRAP_DEFAULT_LOCALE: "C.UTF-8",
    };
    for (const hook of ["10-debian-networking", "12-debian-locale", "15-sudoers-dir"]) {
      const r = await inChroot(elementFile("debootstrap", "install.d", hook), env);
      expect(r.stderr, hook).toBe("");
      expect(r.exitCode, hook).toBe(0);
    }
    expect(readFileSync(join(root, "etc/hostname"), "utf8")).toBe("debian\n");
    expect(readFileSync(join(root, "etc/hosts"), "utf8")).toContain("127.0.1.1\tdebian");
    expect(readFileSync(join(root, "etc/network/interfaces.d/eth1"), "utf8")).toBe(
      "allow-hotplug eth1\niface eth1 inet dhcp\n",
    );
    expect(readFileSync(join(root, "etc/network/interfaces"), "utf8")).toContain(
      "source /etc/network/interfaces.d/*",
    );
    expect(existsSync(join(root, "etc/sudoers.d"))).toBe(true);
    expect(readFileSync(join(root, "etc/default/locale"), "utf8")).toBe("LANG=C.UTF-8\n");
  });

  it("copies every element's static/ tree onto the root, without rsync in the image", async () => {
    const staticDir = join(root, "tmp/in_target.d/static");
    mkdirSync(join(staticDir, "etc/demo.d"), { recursive: true });
    mkdirSync(join(staticDir, "usr/local/sbin"), { recursive: true });
    mkdirSync(join(staticDir, ".git"), { recursive: true });
    writeFileSync(join(staticDir, "etc/demo.d/demo.conf"), "demo=1\n");
    writeFileSync(join(staticDir, "etc/demo.d/demo.conf~"), "editor leftover\n");
    writeFileSync(join(staticDir, ".git/HEAD"), "ref: refs/heads/master\n");
    writeFileSync(join(staticDir, "usr/local/sbin/demo-tool"), "#!/bin/sh\necho demo\n", {
      mode: 0o755,
    });
    expect(existsSync(join(root, "usr/bin/rsync"))).toBe(false);

    const r = await inChroot(elementFile("install-static", "install.d", "10-install-static"));
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(root, "etc/demo.d/demo.conf"), "utf8")).toBe("demo=1\n");
    expect(existsSync(join(root, "etc/demo.d/demo.conf~"))).toBe(false);
    expect(existsSync(join(root, ".git"))).toBe(false);
    const tool = await execa("chroot", [root, "/usr/local/sbin/demo-tool"]);
    expect(tool.stdout).toBe("demo");
  });

  it("clears per-machine state in cleanup.d", async () => {
    writeFileSync(join(root, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
    mkdirSync(join(root, "var/lib/systemd"), { recursive: true });
    writeFileSync(join(root, "var/lib/systemd/random-seed"), "seed");
    const r = await runScript(elementFile("sysprep", "cleanup.d", "50-remove-machine-state"), [], {
      TARGET_ROOT: root,
    });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(root, "etc/machine-id"), "utf8")).toBe("");
    expect(existsSync(join(root, "var/lib/systemd/random-seed"))).toBe(false);
  });

  it.runIf(haveZstd)(
    "bootstraps from the cached tarball offline, and refuses when there is none",
    async () => {
      const target = join(work.dir, "target");
      const imageCache = join(work.dir, "image-cache");
      mkdirSync(target);
      const env = {
        TARGET_ROOT: target,
        ARCH: "amd64",
        DISTRO_NAME: "debian",
        DIB_RELEASE: "bookworm",
        DIB_DISTRIBUTION_MIRROR: "http://deb.debian.org/debian",
        DIB_IMAGE_CACHE: imageCache,
        DIB_LOCKFILES: join(work.dir, "locks"),
        DIB_OFFLINE: "1",
      };
      const hook = elementFile("debootstrap", "root.d", "08-debootstrap");
      const missing = await runScript(hook, [], env);
      expect(missing.exitCode).toBe(1);
      const cacheFile = /no cached bootstrap at (\S+)/.exec(missing.stderr)?.[1] ?? "";
      expect(cacheFile).toMatch(/\/debootstrap-debian-bookworm-amd64-[0-9a-f]{12}\.tar\.zst$/);

      await execa("zstd", ["-q", "-T0", minbaseTar, "-o", cacheFile]);
      const cached = await runScript(hook, [], env);
      expect(cached.exitCode).toBe(0);
      expect(cached.stderr).toContain("Using cached debian bookworm bootstrap");
      expect(existsSync(join(target, "usr/bin/apt-get"))).toBe(true);
      // What the bootstrap tool copied from the build host does not stay in the image.
      expect(existsSync(join(target, "etc/resolv.conf"))).toBe(false);
      expect(existsSync(join(target, "etc/hostname"))).toBe(false);
      expect(existsSync(join(target, "etc/apt/sources.list"))).toBe(false);
    },
    120_000,
  );
});
