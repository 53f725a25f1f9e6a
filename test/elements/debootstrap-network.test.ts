import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
} from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, lazyTempDir, runScript } from "./element-harness.js";

/**
 * The heavy path: a real bootstrap of bookworm from deb.debian.org, cached and reused, then
 * debian-minimal's base install and the chroot-side package tools. Several minutes; runs
 * only with DIB_TEST_NETWORK=1.
 */
const wanted = process.env.DIB_TEST_NETWORK === "1";
const reason =
  rootOnlyReason ||
  (wanted ? "" : " (skipped: set DIB_TEST_NETWORK=1 to bootstrap from the network)");

describe.runIf(isRoot && wanted)(
  `debootstrap and debian-minimal against the Debian mirror${reason}`,
  () => {
    const work = lazyTempDir("bootstrap");
    const imageCache = join(work.dir, "image-cache");
    let before: HostSnapshot;

    const env = (target: string): Record<string, string> => ({
      TARGET_ROOT: target,
      ARCH: "amd64",
      DISTRO_NAME: "debian",
      DIB_RELEASE: "bookworm",
      DIB_DISTRIBUTION_MIRROR: "http://deb.debian.org/debian",
      DIB_DEBIAN_SECURITY_MIRROR: "http://deb.debian.org/debian-security",
      DIB_APT_SOURCES_CONF: [
        "default:deb http://deb.debian.org/debian bookworm main",
        "updates:deb http://deb.debian.org/debian bookworm-updates main",
        "security:deb http://deb.debian.org/debian-security bookworm-security main",
      ].join("\n"),
      DIB_DEBOOTSTRAP_BASE_PACKAGES: "systemd-sysv busybox sudo gnupg python3",
      DIB_IMAGE_CACHE: imageCache,
      DIB_LOCKFILES: join(work.dir, "locks"),
    });
    const bootstrap = async (target: string) => {
      mkdirSync(target);
      const start = Date.now();
      const r = await runScript(
        elementFile("debootstrap", "root.d", "08-debootstrap"),
        [],
        env(target),
      );
      return { ...r, seconds: (Date.now() - start) / 1000 };
    };

    beforeAll(() => {
      before = hostSnapshot();
      work.create();
    });
    afterAll(async () => {
      for (const target of ["warm", "cold"]) {
        for (const sub of ["var/cache/apt/archives", "proc"]) {
          await execa("umount", [join(work.dir, target, sub)], { reject: false });
        }
      }
      work.remove();
      expectHostClean(before);
    });

    it("bootstraps once, caches the tarball, and reuses it the second time", async () => {
      const cold = await bootstrap(join(work.dir, "cold"));
      expect(cold.stderr).toContain("Cached the bootstrap as");
      expect(cold.exitCode).toBe(0);
      const cached = readdirSync(imageCache).filter((f) =>
        f.startsWith("debootstrap-debian-bookworm-amd64-"),
      );
      expect(cached.some((f) => f.endsWith(".tar.zst") || f.endsWith(".tar.gz"))).toBe(true);

      const warm = await bootstrap(join(work.dir, "warm"));
      expect(warm.exitCode).toBe(0);
      expect(warm.stderr).toContain("Using cached debian bookworm bootstrap");
      expect(warm.seconds).toBeLessThan(cold.seconds);
      console.info(
        `bootstrap: cold ${cold.seconds.toFixed(1)} s, cached ${warm.seconds.toFixed(1)} s`,
      );
      expect(existsSync(join(work.dir, "warm/usr/bin/apt-get"))).toBe(true);
    }, 1_200_000);

    it("installs the base system, then maps and installs packages inside the chroot", async () => {
      const target = join(work.dir, "warm");
      for (const hook of [
        "root.d/50-block-daemons",
        "root.d/50-dpkg-unsafe-io",
        "root.d/50-shared-apt-cache",
      ]) {
        const r = await runScript(elementFile("dpkg", ...hook.split("/")), [], env(target));
        expect(r.exitCode, hook).toBe(0);
      }
      const base = await runScript(
        elementFile("debootstrap", "root.d", "75-debootstrap-baseinstall"),
        [],
        env(target),
      );
      expect(base.stderr).not.toMatch(/^E: /m);
      expect(base.exitCode).toBe(0);
      expect(readFileSync(join(target, "etc/apt/sources.list.d/security.list"), "utf8")).toBe(
        "deb http://deb.debian.org/debian-security bookworm-security main\n",
      );
      expect(existsSync(join(target, "usr/bin/python3"))).toBe(true);

      for (const [element, tool] of [
        ["dpkg", "install-packages"],
        ["pkg-map", "pkg-map"],
        ["package-installs", "package-installs-v2"],
      ]) {
        copyFileSync(
          elementFile(element as string, "bin", tool as string),
          join(target, "usr/local/bin", tool as string),
        );
        await execa("chmod", ["0755", join(target, "usr/local/bin", tool as string)]);
      }
      mkdirSync(join(target, "usr/share/pkg-map"), { recursive: true });
      writeFileSync(
        join(target, "usr/share/pkg-map/demo"),
        JSON.stringify({ family: { debian: { pager: "less" } } }),
      );
      writeFileSync(
        join(target, "tmp/package-installs.json"),
        JSON.stringify({
          "install.d": { install: [["pager", "demo"]], uninstall: [["tzdata", "demo"]] },
        }),
      );
      const resolv = join(target, "etc/resolv.conf");
      copyFileSync("/etc/resolv.conf", resolv);
      await execa("mount", ["-t", "proc", "proc", join(target, "proc")]);
      try {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
        const status = "${db:Status-Status}";
        const chroot = (...args: string[]) =>
          execa(
            "chroot",
            [
              target,
              "/usr/bin/env",
              "-i",
              "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "DISTRO_NAME=debian",
              "DIB_RELEASE=bookworm",
              ...args,
            ],
            { reject: false },
          );
        const install = await chroot(
          "package-installs-v2",
          "--phase",
          "install.d",
          "/tmp/package-installs.json",
        );
        expect(install.stderr).toContain("Running install-packages less");
        expect(install.exitCode).toBe(0);
        const remove = await chroot(
          "package-installs-v2",
          "--phase",
          "install.d",
          "--uninstall",
          "/tmp/package-installs.json",
        );
        expect(remove.exitCode).toBe(0);
        expect((await chroot("dpkg-query", "-W", "-f", status, "less")).stdout).toBe("installed");
        expect((await chroot("dpkg-query", "-W", "-f", status, "tzdata")).stdout).not.toBe(
          "installed",
        );
      } finally {
        await execa("umount", [join(target, "proc")]);
        await execa("rm", ["-f", resolv]);
      }
      const unmount = await runScript(
        elementFile("dpkg", "post-root.d", "99-unmount-apt-cache"),
        [],
        { TMP_MOUNT_PATH: target },
      );
      expect(unmount.exitCode).toBe(0);
      expect(readdirSync(join(imageCache, "apt/debian")).some((f) => f.startsWith("less_"))).toBe(
        true,
      );
    }, 1_200_000);
  },
);
