import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { beforeAll, describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason, runScript } from "./element-harness.js";
import { inTree as runInTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;

/**
 * The elements that put a file from the build host into the image's apt, modprobe or manifest
 * configuration run their real extra-data.d hooks on a bookworm minbase tree; the tree's own
 * apt then reads the result, so what is checked is what apt makes of it, not only the text.
 */
describe.runIf(isRoot && haveMinbase)(
  `apt, modprobe and manifest hooks on a real root tree${reason}`,
  () => {
    const work = useMinbaseTree("aptconf");
    const root = work.root;
    const host = join(work.dir, "host");

    beforeAll(() => {
      mkdirSync(host);
    });

    /** Runs a command in the tree with a clean environment (no /proc needed by apt's readers). */
    const inTree = (args: string[]) =>
      runInTree(root, args, {}, { path: "/usr/sbin:/usr/bin:/sbin:/bin" });

    function hostFile(name: string, text: string): string {
      const path = join(host, name);
      writeFileSync(path, text);
      return path;
    }

    it("apt-conf makes DIB_APT_CONF the image's apt.conf, which apt then reads", async () => {
      const conf = hostFile("apt.conf", 'Acquire::Retries "7";\nAPT::Get::Show-Versions "true";\n');
      const r = await runScript(
        elementFile("apt-conf", "extra-data.d", "99-override-default-apt-conf"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_APT_CONF: conf,
        },
      );
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(root, "etc/apt/apt.conf"), "utf8")).toBe(readFileSync(conf, "utf8"));
      expect(statSync(join(root, "etc/apt/apt.conf")).mode & 0o777).toBe(0o644);
      const dump = await inTree(["apt-config", "dump"]);
      expect(dump.exitCode).toBe(0);
      expect(dump.stdout).toContain('Acquire::Retries "7";');
      expect(dump.stdout).toContain('APT::Get::Show-Versions "true";');
    });

    it("apt-conf leaves apt.conf alone without DIB_APT_CONF and refuses a missing file", async () => {
      const unset = await runScript(
        elementFile("apt-conf", "extra-data.d", "99-override-default-apt-conf"),
        [],
        {
          TMP_MOUNT_PATH: join(work.dir, "nowhere"),
        },
      );
      expect(unset.exitCode).toBe(0);
      expect(unset.stdout).toContain("DIB_APT_CONF is not set");
      const missing = await runScript(
        elementFile("apt-conf", "extra-data.d", "99-override-default-apt-conf"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_APT_CONF: join(host, "no-such-apt.conf"),
        },
      );
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain("is not a file");
    });

    it("apt-sources replaces the OS element's sources with DIB_APT_SOURCES, keeping other lists", async () => {
      const listDir = join(root, "etc/apt/sources.list.d");
      mkdirSync(listDir, { recursive: true });
      // What debian-minimal's root.d writes from DIB_APT_SOURCES_CONF, plus a list of another element's.
      writeFileSync(
        join(listDir, "default.list"),
        "deb http://deb.debian.org/debian bookworm main\n",
      );
      writeFileSync(
        join(listDir, "security.list"),
        "deb http://deb.debian.org/debian-security bookworm-security main\n",
      );
      writeFileSync(join(listDir, "extra.list"), "deb http://127.0.0.1:9/extra bookworm main\n");
      const sources = hostFile(
        "sources.list",
        "deb http://127.0.0.1:9/mirror bookworm main contrib\n",
      );
      const r = await runScript(
        elementFile("apt-sources", "extra-data.d", "99-override-default-apt-sources"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_APT_SOURCES: sources,
          DIB_APT_SOURCES_CONF:
            "default:deb http://deb.debian.org/debian bookworm main\nsecurity:deb http://deb.debian.org/debian-security bookworm-security main",
        },
      );
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(root, "etc/apt/sources.list"), "utf8")).toBe(
        readFileSync(sources, "utf8"),
      );
      // apt's own view of where it would fetch from: only the given file and the unrelated list.
      const uris = await inTree(["apt-get", "update", "--print-uris"]);
      expect(uris.exitCode).toBe(0);
      const releases = uris.stdout
        .split("\n")
        .map((l) => /^'([^']+)\/InRelease'/.exec(l)?.[1])
        .filter((u) => u !== undefined)
        .sort();
      expect(releases).toEqual([
        "http://127.0.0.1:9/extra/dists/bookworm",
        "http://127.0.0.1:9/mirror/dists/bookworm",
      ]);
    });

    it("apt-sources refuses an empty DIB_APT_SOURCES file", async () => {
      const r = await runScript(
        elementFile("apt-sources", "extra-data.d", "99-override-default-apt-sources"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_APT_SOURCES: hostFile("empty.list", ""),
        },
      );
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("is not a non-empty file");
    });

    it("apt-preferences pins each manifest package to its version, and apt applies the pin", async () => {
      const version = (await inTree(["dpkg-query", "--show", "dpkg"])).stdout.split("\t")[1] ?? "";
      expect(version).toMatch(/^1\./);
      const manifest = hostFile(
        "manifest.json",
        JSON.stringify({
          packages: [
            { package: "dpkg", arch: "amd64", version },
            { package: "libc6", arch: "amd64", version: "2.36-9" },
            { package: "libc6", arch: "i386", version: "2.36-9" },
          ],
        }),
      );
      const r = await runScript(
        elementFile("apt-preferences", "extra-data.d", "99-set-apt-package-pins"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_DPKG_MANIFEST: manifest,
        },
      );
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(root, "etc/apt/preferences"), "utf8")).toBe(
        `Package: dpkg\nPin: version ${version}\nPin-Priority: 1001\n\n` +
          "Package: libc6\nPin: version 2.36-9\nPin-Priority: 1001\n\n",
      );
      const policy = await inTree(["apt-cache", "policy", "dpkg"]);
      expect(policy.stderr).toBe("");
      // The installed version carries the pin's priority.
      expect(policy.stdout).toContain(`*** ${version} 1001`);
    });

    it("apt-preferences refuses a file that is not a dpkg manifest", async () => {
      const r = await runScript(
        elementFile("apt-preferences", "extra-data.d", "99-set-apt-package-pins"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_DPKG_MANIFEST: hostFile(
            "bad.json",
            '{"packages": [{"package": "x\\nPin: version 1", "version": "1"}]}',
          ),
        },
      );
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain("bad package name");
    });

    it("element-manifest lists every element of the image, one per line", async () => {
      const r = await runScript(
        elementFile("element-manifest", "extra-data.d", "75-inject-element-manifest"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_MANIFEST_IMAGE_DIR: "/etc/dib-manifests",
          IMAGE_ELEMENT: "base debian-minimal element-manifest manifests vm",
        },
      );
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(root, "etc/dib-manifests/dib-element-manifest"), "utf8")).toBe(
        "base\ndebian-minimal\nelement-manifest\nmanifests\nvm\n",
      );
      const moved = await runScript(
        elementFile("element-manifest", "extra-data.d", "75-inject-element-manifest"),
        [],
        {
          TMP_MOUNT_PATH: root,
          DIB_ELEMENT_MANIFEST_PATH: "/var/lib/elements.txt",
          IMAGE_ELEMENT: "vm",
        },
      );
      expect(moved.exitCode).toBe(0);
      expect(readFileSync(join(root, "var/lib/elements.txt"), "utf8")).toBe("vm\n");
    });

    it("disable-nouveau's modprobe.d file is installed into /etc/modprobe.d by modprobe", async () => {
      const hooks = join(work.dir, "hooks");
      mkdirSync(join(hooks, "modprobe.d"), { recursive: true });
      writeFileSync(
        join(hooks, "modprobe.d", "disable-nouveau.conf"),
        readFileSync(elementFile("disable-nouveau", "modprobe.d", "disable-nouveau.conf")),
      );
      const r = await runScript(
        elementFile("modprobe", "extra-data.d", "50-modprobe-configs"),
        [],
        {
          TMP_MOUNT_PATH: root,
          TMP_HOOKS_PATH: hooks,
        },
      );
      expect(r.exitCode).toBe(0);
      // (The initramfs that carries it is checked by the e2e build, stock-elements-b.)
      expect(readFileSync(join(root, "etc/modprobe.d/disable-nouveau.conf"), "utf8")).toMatch(
        /^blacklist nouveau\noptions nouveau modeset=0\n$/m,
      );
      expect(
        readFileSync(
          elementFile("disable-nouveau", "dracut.conf.d", "disable-nouveau.conf"),
          "utf8",
        ),
      ).toMatch(/^omit_drivers\+=" nouveau "$/m);
    });
  },
);
