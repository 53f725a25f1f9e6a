import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
} from "../src/index.js";
import { elementFile, lazyTempDir, runScript } from "./element-harness.js";

/** A bookworm minbase tree made with mmdebstrap (no network needed to use it). */
const minbase = process.env.DIB_TEST_MINBASE_TAR ?? "/var/cache/dib-dev/bookworm-minbase.tar";
const haveMinbase = existsSync(minbase);
const reason = rootOnlyReason || (haveMinbase ? "" : ` (skipped: ${minbase} is missing)`);

const kernel = "9.9.9-dibtest";
const log = "/var/log/fake-update-initramfs.log";

/**
 * Stand-ins for initramfs-tools, a kernel and a package with an initramfs hook that behave
 * like the real ones towards update-initramfs (the kernel's postinst.d hook creates the
 * initramfs, package scripts ask for `update-initramfs -u`), but take no time: the fake
 * update-initramfs writes down each call and writes a small file.
 */
const fakePackages: Record<string, { control: string; files: Record<string, string> }> = {
  "initramfs-tools": {
    control: "Version: 0.142+dibtest\n",
    files: {
      "usr/sbin/update-initramfs": `#!/bin/sh
echo "$*" >>${log}
mode= version=
while [ $# -gt 0 ]; do
    case "$1" in
        -c) mode=c ;; -u) mode=u ;; -d) mode=d ;;
        -k) version=$2; shift ;; -b) shift ;;
    esac
    shift
done
[ -n "$version" ] || version=$(ls /boot | sed -n 's/^initrd\\.img-//p' | sort -V | tail -n 1)
[ -n "$version" ] || exit 0
# The real one takes minutes; a moment keeps the files' times apart from the requests'.
sleep 0.1
case "$mode" in
    c | u) echo "built for $version" >/boot/initrd.img-$version ;;
    d) rm -f /boot/initrd.img-$version ;;
esac
`,
      "etc/kernel/postinst.d/initramfs-tools": '#!/bin/sh\nupdate-initramfs -c -k "$1" >&2\n',
      "DEBIAN/postinst": "#!/bin/sh\nupdate-initramfs -u\n",
    },
  },
  [`linux-image-${kernel}`]: {
    control: "Version: 1.0\nDepends: initramfs-tools\n",
    files: {
      [`boot/vmlinuz-${kernel}`]: "not a kernel\n",
      [`lib/modules/${kernel}/modules.order`]: "",
      "DEBIAN/postinst": `#!/bin/sh\nDEB_MAINT_PARAMS="$*" run-parts --exit-on-error --arg=${kernel} --arg=/boot/vmlinuz-${kernel} /etc/kernel/postinst.d\n`,
    },
  },
  "dib-fake-initramfs-hook": {
    control: "Version: 1.0\n",
    files: {
      "usr/share/initramfs-tools/hooks/dib-fake": "#!/bin/sh\n",
      "DEBIAN/postinst": "#!/bin/sh\nupdate-initramfs -u\n",
    },
  },
};

describe.runIf(isRoot && haveMinbase)(
  `initramfs updates deferred to post-install.d${reason}`,
  () => {
    const work = lazyTempDir("initramfs");
    const root = join(work.dir, "root");
    const debs = join(work.dir, "debs");
    let before: HostSnapshot;

    async function buildDeb(name: string): Promise<string> {
      const spec = fakePackages[name];
      if (spec === undefined) throw new Error(`no fake package ${name}`);
      const dir = join(work.dir, "src", name);
      for (const [path, text] of Object.entries(spec.files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
        if (text.startsWith("#!")) chmodSync(join(dir, path), 0o755);
      }
      writeFileSync(
        join(dir, "DEBIAN/control"),
        `Package: ${name}\n${spec.control}Architecture: all\nMaintainer: dib tests <dib@example.org>\nDescription: fake ${name} for the dib element tests\n`,
      );
      const deb = join(debs, `${name}.deb`);
      await execa("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", dir, deb]);
      return deb;
    }

    /** Runs argv inside the tree with /proc mounted, as the builder runs chroot phases. */
    async function inChroot(argv: string[], env: Record<string, string> = {}) {
      await execa("mount", ["-t", "proc", "proc", join(root, "proc")]);
      try {
        return await execa(
          "chroot",
          [
            root,
            "/usr/bin/env",
            "-i",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
            ...argv,
          ],
          { reject: false },
        );
      } finally {
        await execa("umount", [join(root, "proc")]);
      }
    }

    /** Copies a .deb into the tree and installs it with dpkg, as apt would. */
    async function dpkgInstall(...names: string[]) {
      const paths: string[] = [];
      for (const name of names) {
        const deb = await buildDeb(name);
        const inTree = `/tmp/${name}.deb`;
        writeFileSync(join(root, inTree), readFileSync(deb));
        paths.push(inTree);
      }
      return inChroot(["dpkg", "--install", ...paths]);
    }

    const calls = () =>
      existsSync(join(root, log))
        ? readFileSync(join(root, log), "utf8").trim().split("\n").filter(Boolean)
        : [];

    beforeAll(async () => {
      before = hostSnapshot();
      work.create();
      mkdirSync(root);
      mkdirSync(debs);
      await execa("tar", ["-C", root, "--numeric-owner", "-xpf", minbase]);
    }, 120_000);

    afterAll(async () => {
      await execa("umount", [join(root, "proc")], { reject: false });
      work.remove();
      expectHostClean(before);
    });

    it("leaves update-initramfs alone with DIB_DEFER_INITRAMFS_UPDATES=0", async () => {
      const r = await runScript(elementFile("dpkg", "root.d", "50-defer-initramfs-updates"), [], {
        TARGET_ROOT: root,
        DIB_DEFER_INITRAMFS_UPDATES: "0",
      });
      expect(r.exitCode).toBe(0);
      expect((await inChroot(["dpkg-divert", "--list"])).stdout).not.toContain("update-initramfs");
    });

    it("builds a new kernel's initramfs once, and runs later requests once at the end", async () => {
      const defer = await runScript(
        elementFile("dpkg", "root.d", "50-defer-initramfs-updates"),
        [],
        { TARGET_ROOT: root },
      );
      expect(defer.exitCode).toBe(0);
      // Idempotent: a second run finds the stand-in in place.
      expect(
        (
          await runScript(elementFile("dpkg", "root.d", "50-defer-initramfs-updates"), [], {
            TARGET_ROOT: root,
          })
        ).exitCode,
      ).toBe(0);

      // initramfs-tools' postinst asks for an update before the kernel is configured (the
      // trigger that makes Debian build a new kernel's initramfs twice); the kernel's hook
      // creates it at once.
      const kernelInstall = await dpkgInstall("initramfs-tools", `linux-image-${kernel}`);
      expect(kernelInstall.stderr).not.toMatch(/error/i);
      expect(kernelInstall.exitCode).toBe(0);
      expect(kernelInstall.stdout).toContain(
        "update-initramfs: deferred to the end of post-install.d",
      );
      expect(calls()).toEqual([`-c -k ${kernel}`]);
      expect(existsSync(join(root, `boot/initrd.img-${kernel}`))).toBe(true);

      // A package with an initramfs hook, installed afterwards, asks again: written down only.
      const hook = await dpkgInstall("dib-fake-initramfs-hook");
      expect(hook.exitCode).toBe(0);
      expect(calls()).toEqual([`-c -k ${kernel}`]);
      // A hook's own call is not deferred.
      const direct = await inChroot(["update-initramfs", "-u", "-k", kernel]);
      expect(direct.exitCode).toBe(0);
      expect(calls()).toEqual([`-c -k ${kernel}`, `-u -k ${kernel}`]);
      expect(
        readFileSync(join(root, "var/lib/dib-build/update-initramfs-requests"), "utf8")
          .trim()
          .split("\n"),
      ).toHaveLength(2);

      // Both requests came before the hook's own call rebuilt the initramfs: nothing is left.
      const end = await inChroot([
        "/bin/bash",
        "-c",
        readFileSync(
          elementFile("dpkg", "post-install.d", "99-zz-deferred-initramfs-updates"),
          "utf8",
        ),
      ]);
      expect(end.stderr).toBe("");
      expect(end.exitCode).toBe(0);
      expect(end.stdout).toContain("2 deferred update(s) already done");
      expect(calls()).toEqual([`-c -k ${kernel}`, `-u -k ${kernel}`]);
      expect(existsSync(join(root, "var/lib/dib-build"))).toBe(false);
      expect((await inChroot(["dpkg-divert", "--list"])).stdout).not.toContain("update-initramfs");
      expect(readFileSync(join(root, "usr/sbin/update-initramfs"), "utf8")).toContain(log);
      expect(existsSync(join(root, "usr/sbin/update-initramfs.REAL"))).toBe(false);
    });

    it("runs a request made after the last build of the initramfs once, for all its askers", async () => {
      const defer = await runScript(
        elementFile("dpkg", "root.d", "50-defer-initramfs-updates"),
        [],
        { TARGET_ROOT: root },
      );
      expect(defer.exitCode).toBe(0);
      // The real update-initramfs is installed now: the stand-in moves it aside.
      expect(existsSync(join(root, "usr/sbin/update-initramfs.REAL"))).toBe(true);
      // Reinstalled twice (an upgrade would do the same): two requests.
      expect((await dpkgInstall("dib-fake-initramfs-hook")).exitCode).toBe(0);
      expect((await dpkgInstall("dib-fake-initramfs-hook")).exitCode).toBe(0);
      const callsBefore = calls().length;
      const end = await inChroot([
        "/bin/bash",
        "-c",
        readFileSync(
          elementFile("dpkg", "post-install.d", "99-zz-deferred-initramfs-updates"),
          "utf8",
        ),
      ]);
      expect(end.exitCode).toBe(0);
      expect(calls().slice(callsBefore)).toEqual([`-u -k ${kernel} -b /boot`]);
      // update-initramfs works as usual in the finished image.
      const after = await inChroot(["update-initramfs", "-u"]);
      expect(after.exitCode).toBe(0);
      expect(calls().at(-1)).toBe("-u");
    });

    it("is put back by cleanup.d when the build never reached post-install.d", async () => {
      await runScript(elementFile("dpkg", "root.d", "50-defer-initramfs-updates"), [], {
        TARGET_ROOT: root,
      });
      expect((await inChroot(["dpkg-divert", "--list"])).stdout).toContain("update-initramfs");
      const r = await runScript(elementFile("dpkg", "cleanup.d", "40-unblock-daemons"), [], {
        TARGET_ROOT: root,
      });
      expect(r.exitCode).toBe(0);
      expect((await inChroot(["dpkg-divert", "--list"])).stdout).not.toContain("update-initramfs");
      expect(readFileSync(join(root, "usr/sbin/update-initramfs"), "utf8")).toContain(log);
    });
  },
);
