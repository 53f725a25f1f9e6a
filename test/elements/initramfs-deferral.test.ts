import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import {
  elementFile,
  hasCommand,
  haveMinbase,
  minbaseSkipReason,
  runScript,
} from "./element-harness.js";
import { inTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;

const log = "/var/log/fake-update-initramfs.log";
const requests = "var/lib/dib-build/update-initramfs-requests";
const deferScript = elementFile("dpkg", "root.d", "50-defer-initramfs-updates");
const endScript = elementFile("dpkg", "post-install.d", "99-zz-deferred-initramfs-updates");

/** A fake kernel package: its postinst and postrm run the kernel hooks, as Debian's do. */
function kernelPackage(version: string) {
  const hooks = (phase: string) =>
    `#!/bin/sh\nDEB_MAINT_PARAMS="$*" run-parts --exit-on-error --arg=${version} --arg=/boot/vmlinuz-${version} /etc/kernel/${phase}.d\n`;
  return {
    control: "Version: 1.0\nDepends: initramfs-tools\n",
    files: {
      [`boot/vmlinuz-${version}`]: "not a kernel\n",
      [`lib/modules/${version}/modules.order`]: "",
      "DEBIAN/postinst": hooks("postinst"),
      "DEBIAN/postrm": hooks("postrm"),
    },
  };
}

/**
 * Stand-ins for initramfs-tools, kernels and packages that ask for initramfs updates, which
 * call update-initramfs as the real ones do (the kernel's postinst.d hook `-c -k V -b /boot`,
 * initramfs-tools' trigger `-u` after the whole dpkg run), but take no time: the fake
 * update-initramfs writes down each call and writes a small file.
 */
const fakePackages: Record<string, { control: string; files: Record<string, string> }> = {
  "initramfs-tools": {
    control: "Version: 0.142+dibtest\n",
    files: {
      "usr/sbin/update-initramfs": `#!/bin/sh
echo "$*" >>${log}
mode= version= bootdir=/boot
while [ $# -gt 0 ]; do
    case "$1" in
        -c) mode=c ;; -u) mode=u ;; -d) mode=d ;;
        -k) version=$2; shift ;; -b) bootdir=$2; shift ;;
    esac
    shift
done
[ -n "$version" ] || version=$(ls "$bootdir" | sed -n 's/^initrd\\.img-//p' | sort -V | tail -n 1)
[ -n "$version" ] || exit 0
case "$mode" in
    c | u) echo "built for $version" >"$bootdir/initrd.img-$version" ;;
    d) rm -f "$bootdir/initrd.img-$version" ;;
esac
`,
      "etc/kernel/postinst.d/initramfs-tools": `#!/bin/sh
version=$1
eval set -- "$DEB_MAINT_PARAMS"
[ "$1" = configure ] || exit 0
update-initramfs -c -k "$version" -b /boot >&2
`,
      "etc/kernel/postrm.d/initramfs-tools": `#!/bin/sh
version=$1
eval set -- "$DEB_MAINT_PARAMS"
[ "$1" = remove ] || exit 0
update-initramfs -d -k "$version" -b /boot >&2
`,
      "DEBIAN/triggers": "interest-await update-initramfs\n",
      "DEBIAN/postinst": `#!/bin/sh
if [ "$1" = triggered ]; then
    DPKG_MAINTSCRIPT_PACKAGE='' update-initramfs -u
else
    update-initramfs -u
fi
`,
    },
  },
  "linux-image-9.9.9-dibtest": kernelPackage("9.9.9-dibtest"),
  "linux-image-9.9.10-dibtest": kernelPackage("9.9.10-dibtest"),
  "linux-image-9.9.11-dibtest": kernelPackage("9.9.11-dibtest"),
  // Ships an initramfs hook and activates the trigger, like busybox or udev.
  "dib-fake-initramfs-hook": {
    control: "Version: 1.0\n",
    files: {
      "usr/share/initramfs-tools/hooks/dib-fake": "#!/bin/sh\n",
      "DEBIAN/triggers": "activate-await update-initramfs\n",
    },
  },
  "dib-fake-update-all": {
    control: "Version: 1.0\n",
    files: { "DEBIAN/postinst": "#!/bin/sh\nupdate-initramfs -u -k all\n" },
  },
};

describe.runIf(isRoot && haveMinbase)(
  `initramfs builds deferred to the end of post-install.d${reason}`,
  () => {
    // Belt and braces: a failed test must not leave /proc mounted in the tree.
    const work = useMinbaseTree("initramfs", { leftovers: ["proc"] });
    const root = work.root;
    const debs = join(work.dir, "debs");

    async function buildDeb(name: string): Promise<string> {
      const spec = fakePackages[name];
      if (spec === undefined) throw new Error(`no fake package ${name}`);
      const deb = join(debs, `${name}.deb`);
      if (existsSync(deb)) return deb;
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
      await execa("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", dir, deb]);
      return deb;
    }

    /** Runs argv inside the tree with /proc mounted, as the builder runs chroot phases. */
    const inChroot = (argv: string[], env: Record<string, string> = {}) =>
      inTree(root, argv, env, { proc: true });

    /** Installs the packages in one dpkg run, as one apt-get install would. */
    async function dpkgInstall(...names: string[]) {
      const paths: string[] = [];
      for (const name of names) {
        const inTree = `/tmp/${name}.deb`;
        writeFileSync(join(root, inTree), readFileSync(await buildDeb(name)));
        paths.push(inTree);
      }
      return inChroot(["dpkg", "--install", ...paths]);
    }

    const defer = (env: Record<string, string> = {}) =>
      runScript(deferScript, [], { TARGET_ROOT: root, ...env });
    const finish = () => inChroot(["/bin/bash", "-c", readFileSync(endScript, "utf8")]);
    const calls = () =>
      existsSync(join(root, log))
        ? readFileSync(join(root, log), "utf8").trim().split("\n").filter(Boolean)
        : [];
    const diversions = async () => (await inChroot(["dpkg-divert", "--list"])).stdout;
    const initrd = (version: string) => join(root, `boot/initrd.img-${version}`);

    beforeAll(() => {
      mkdirSync(debs);
    });

    it("leaves update-initramfs alone with DIB_DEFER_INITRAMFS_UPDATES=0", async () => {
      const r = await defer({ DIB_DEFER_INITRAMFS_UPDATES: "0" });
      expect(r.exitCode).toBe(0);
      expect(await diversions()).not.toContain("update-initramfs");
    });

    it("builds a new kernel's initramfs once, after its hook and the trigger both asked", async () => {
      expect((await defer()).exitCode).toBe(0);
      // Idempotent: a second run finds the stand-in in place.
      expect((await defer()).exitCode).toBe(0);
      expect(await diversions()).toContain(
        "local diversion of /usr/sbin/update-initramfs to /usr/sbin/update-initramfs.REAL",
      );

      // One dpkg run: the kernel's hook asks for -c, then the trigger (activated by
      // initramfs-tools itself and by the hook package) asks for -u after it.
      const install = await dpkgInstall(
        "initramfs-tools",
        "linux-image-9.9.9-dibtest",
        "dib-fake-initramfs-hook",
      );
      expect(install.stderr).not.toMatch(/error/i);
      expect(install.exitCode).toBe(0);
      expect(`${install.stdout}\n${install.stderr}`).toContain(
        "update-initramfs: -c -k 9.9.9-dibtest -b /boot: deferred to the end of the image build (dib)",
      );
      expect(calls()).toEqual([]);
      expect(existsSync(initrd("9.9.9-dibtest"))).toBe(false);
      const asked = readFileSync(join(root, requests), "utf8").trim().split("\n");
      // The trigger's -u comes after the kernel's -c, which is why Debian builds it twice.
      const create = asked.indexOf("c|9.9.9-dibtest|/boot");
      expect(create).toBeGreaterThanOrEqual(0);
      expect(asked.slice(create + 1)).toContain("u||/boot");
      expect(asked.filter((line) => line !== "u||/boot")).toEqual(["c|9.9.9-dibtest|/boot"]);

      const end = await finish();
      expect(end.stderr).toBe("");
      expect(end.exitCode).toBe(0);
      expect(end.stdout).toContain(`${asked.length} deferred request(s), 1 initramfs to build`);
      expect(calls()).toEqual(["-c -k 9.9.9-dibtest -b /boot"]);
      expect(existsSync(initrd("9.9.9-dibtest"))).toBe(true);

      // The finished image has the real update-initramfs, with no trace of the build.
      expect(await diversions()).not.toContain("update-initramfs");
      expect(readFileSync(join(root, "usr/sbin/update-initramfs"), "utf8")).toContain(log);
      expect(existsSync(join(root, "usr/sbin/update-initramfs.REAL"))).toBe(false);
      expect(existsSync(join(root, "var/lib/dib-build"))).toBe(false);
      const after = await inChroot(["update-initramfs", "-u"]);
      expect(after.exitCode).toBe(0);
      expect(calls().at(-1)).toBe("-u");
    });

    it("runs calls from outside package scripts, -d and malformed requests at once", async () => {
      expect((await defer()).exitCode).toBe(0);
      // Installed now: the stand-in moves it aside.
      expect(existsSync(join(root, "usr/sbin/update-initramfs.REAL"))).toBe(true);
      const start = calls().length;
      expect((await inChroot(["update-initramfs", "-u", "-k", "9.9.9-dibtest"])).exitCode).toBe(0);
      const maint = { DPKG_MAINTSCRIPT_NAME: "postinst" };
      expect((await inChroot(["update-initramfs", "-c"], maint)).exitCode).toBe(0);
      expect(
        (await inChroot(["update-initramfs", "-u", "-b", "/nonexistent"], maint)).exitCode,
      ).toBe(0);
      expect((await inChroot(["update-initramfs", "-u", "-h"], maint)).exitCode).toBe(0);
      expect((await inChroot(["update-initramfs", "-d", "-k", "1.2.3"], maint)).exitCode).toBe(0);
      expect(calls().slice(start)).toEqual([
        "-u -k 9.9.9-dibtest",
        "-c",
        "-u -b /nonexistent",
        "-u -h",
        "-d -k 1.2.3",
      ]);
      expect(readFileSync(join(root, requests), "utf8")).toBe("d|1.2.3|/boot\n");

      expect((await finish()).exitCode).toBe(0);
      expect(calls().length).toBe(start + 5);
      expect(await diversions()).not.toContain("update-initramfs");
    });

    it("updates existing initramfs and creates new ones once each for -k all and a newer kernel", async () => {
      expect((await defer()).exitCode).toBe(0);
      const install = await dpkgInstall("linux-image-9.9.10-dibtest", "dib-fake-update-all");
      expect(install.exitCode).toBe(0);
      // The newer kernel's hook, the -k all package: none of them runs yet.
      const start = calls().length;
      expect(readFileSync(join(root, requests), "utf8")).toBe(
        "c|9.9.10-dibtest|/boot\nu|all|/boot\n",
      );
      // And a trigger with no -k, for the newest kernel (the one not built yet).
      expect((await dpkgInstall("dib-fake-initramfs-hook")).exitCode).toBe(0);
      expect(calls().length).toBe(start);

      const end = await finish();
      expect(end.exitCode).toBe(0);
      expect(calls().slice(start)).toEqual([
        "-u -k 9.9.9-dibtest -b /boot",
        "-c -k 9.9.10-dibtest -b /boot",
      ]);
    });

    it("builds nothing for a kernel removed later in the same build", async () => {
      expect((await defer()).exitCode).toBe(0);
      expect((await dpkgInstall("linux-image-9.9.11-dibtest")).exitCode).toBe(0);
      const start = calls().length;
      expect((await inChroot(["dpkg", "--purge", "linux-image-9.9.11-dibtest"])).exitCode).toBe(0);
      // The kernel's postrm.d hook deletes its initramfs at once.
      expect(calls().slice(start)).toEqual(["-d -k 9.9.11-dibtest -b /boot"]);
      const end = await finish();
      expect(end.exitCode).toBe(0);
      expect(end.stdout).toContain("no initramfs to build");
      expect(calls().length).toBe(start + 1);
      expect(existsSync(initrd("9.9.11-dibtest"))).toBe(false);
    });

    it("skips a kernel whose modules are gone", async () => {
      expect((await defer()).exitCode).toBe(0);
      const maint = { DPKG_MAINTSCRIPT_NAME: "postinst" };
      expect(
        (await inChroot(["update-initramfs", "-c", "-k", "9.9.99-gone"], maint)).exitCode,
      ).toBe(0);
      const start = calls().length;
      const end = await finish();
      expect(end.exitCode).toBe(0);
      expect(end.stdout).toContain("9.9.99-gone is no longer installed");
      expect(calls().length).toBe(start);
    });

    it("writes a stand-in that passes shellcheck", async () => {
      if (!(await hasCommand("shellcheck"))) {
        console.warn("shellcheck is not installed (apt-get install shellcheck): not checked");
        return;
      }
      expect((await defer()).exitCode).toBe(0);
      const r = await execa("shellcheck", ["-s", "sh", join(root, "usr/sbin/update-initramfs")], {
        reject: false,
      });
      expect(r.stdout).toBe("");
      expect(r.exitCode).toBe(0);
      // Left in place for the next test.
    });

    it("is undone by cleanup.d when the build never reached post-install.d", async () => {
      expect((await defer()).exitCode).toBe(0);
      expect(await diversions()).toContain("update-initramfs");
      expect((await dpkgInstall("dib-fake-initramfs-hook")).exitCode).toBe(0);
      expect(existsSync(join(root, requests))).toBe(true);
      const r = await runScript(elementFile("dpkg", "cleanup.d", "40-unblock-daemons"), [], {
        TARGET_ROOT: root,
      });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("1 deferred update-initramfs request(s) never ran");
      expect(await diversions()).not.toContain("update-initramfs");
      expect(readFileSync(join(root, "usr/sbin/update-initramfs"), "utf8")).toContain(log);
      expect(existsSync(join(root, "var/lib/dib-build"))).toBe(false);
    });
  },
);
