import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  expectHostClean,
  type HostSnapshot,
  hostSnapshot,
  isRoot,
  rootOnlyReason,
  runCli,
  testImageCache,
} from "@dib/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * One bookworm build with every element of this group (simple-init, ensure-venv,
 * ibft-interfaces, pip-cache, journal-to-console, dynamic-login, openstack-ci-mirrors,
 * cleanup-kernel-initrd, growvols, dkms) on the LVM layout growvols is for, written as a
 * tar and inspected: each element's files, units and packages must be in the image.
 */
const cache = testImageCache;

/**
 * A stand-in for glean (PyPI is out of reach here): a wheel named glean whose
 * glean-install writes a udev rule and a templated unit as glean's does, and records its
 * arguments. Built with the host's python3 (zipfile only).
 */
const MAKE_WHEEL = String.raw`
import base64, hashlib, os, sys, zipfile
out = sys.argv[1]
install = '''import os, sys
UNIT = """[Unit]
Description=Glean for interface %I (dib test stand-in)
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
ExecStart=/usr/local/bin/glean --interface %I
RemainAfterExit=true
"""
RULE = 'SUBSYSTEM=="net", ACTION=="add", KERNEL!="lo", TAG+="systemd", ENV{SYSTEMD_WANTS}+="glean@$name.service"\\n'
def main():
    os.makedirs("/usr/lib/systemd/system", exist_ok=True)
    os.makedirs("/etc/udev/rules.d", exist_ok=True)
    open("/usr/lib/systemd/system/glean@.service", "w").write(UNIT)
    open("/etc/udev/rules.d/99-glean.rules", "w").write(RULE)
    open("/etc/glean-install.args", "w").write(" ".join(sys.argv[1:]) + "\\n")
    return 0
'''
files = {
    "glean/__init__.py": "",
    "glean/cmd.py": "import sys\ndef main():\n    print('glean stand-in', *sys.argv[1:])\n    return 0\n",
    "glean/install.py": install,
}
info = "glean-0.0.1.dist-info"
files[info + "/METADATA"] = "Metadata-Version: 2.1\nName: glean\nVersion: 0.0.1\nSummary: dib test stand-in\n"
files[info + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: dib-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
files[info + "/entry_points.txt"] = "[console_scripts]\nglean = glean.cmd:main\nglean-install = glean.install:main\n"
record = []
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append("%s,sha256=%s,%d" % (name, digest, len(text.encode())))
files[info + "/RECORD"] = "\n".join(record + [info + "/RECORD,,"]) + "\n"
with zipfile.ZipFile(os.path.join(out, "glean-0.0.1-py3-none-any.whl"), "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
`;
const WHEEL = "glean-0.0.1-py3-none-any.whl";

/** Serves the wheel and a find-links page on 127.0.0.1; cacheable, so pip keeps it in its cache. */
function serveWheels(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<html><body><a href="${WHEEL}">${WHEEL}</a></body></html>\n`);
    } else if (req.url === `/${WHEEL}`) {
      const body = readFileSync(join(dir, WHEEL));
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": body.length,
        "cache-control": "max-age=3600",
        etag: '"dib-test-glean-0.0.1"',
      });
      res.end(body);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Files under `dir` modified after `since` (ms), recursively. */
function newerFiles(dir: string, since: number): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && statSync(path).mtimeMs >= since) found.push(path);
  }
  return found;
}

describe.runIf(isRoot)(
  `stock elements, group A, in one bookworm LVM build${rootOnlyReason}`,
  () => {
    let work: string;
    let server: Server | undefined;
    let before: HostSnapshot;
    let tar: string;
    let members: string[];
    let buildStarted: number;
    let buildOutput = "";
    /** The text of one file in the image. */
    const file = (path: string) =>
      execFileSync("tar", ["-xOf", tar, `.${path}`], { encoding: "utf8" });
    /** The target of a symlink in the image (from the verbose listing), or undefined. */
    let links: Map<string, string>;
    let dpkgInstalled: Set<string>;

    beforeAll(async () => {
      before = hostSnapshot();
      work = mkdtempSync(join(tmpdir(), "dib-e2e-stock-a-"));
      const wheels = join(work, "wheels");
      mkdirSync(wheels);
      execFileSync("python3", ["-c", MAKE_WHEEL, wheels]);
      server = await serveWheels(wheels);
      const port = (server.address() as AddressInfo).port;

      buildStarted = Date.now() - 1000;
      const result = await runCli(
        [
          "build",
          "-t",
          "tar",
          // block-device-efi-lvm has a fixed 40G root partition (the image file is sparse).
          "--image-size",
          "42",
          "-o",
          join(work, "out"),
          "debian-minimal",
          "vm",
          "block-device-efi-lvm",
          "simple-init",
          "ensure-venv",
          "ibft-interfaces",
          "pip-cache",
          "journal-to-console",
          "dynamic-login",
          "openstack-ci-mirrors",
          "cleanup-kernel-initrd",
          "growvols",
          "dkms",
        ],
        {
          env: {
            DIB_IMAGE_CACHE: cache,
            DIB_RELEASE: "bookworm",
            TMP_DIR: join(work, "tmp"),
            // A mirror file that is not there: openstack-ci-mirrors must change nothing.
            DIB_OS_CI_MIRROR_INFO: join(work, "mirror_info.sh"),
            DIB_SIMPLE_INIT_GLEAN_PIP_ARGS: `--no-index --find-links http://127.0.0.1:${port}/ --trusted-host 127.0.0.1`,
            DIB_SIMPLE_INIT_GLEAN_PIP_PREINSTALL: "",
            DIB_GROWVOLS_TRIGGER: "systemd",
            DIB_GROWVOLS_ARGS: "img-rootfs=100%",
          },
        },
      );
      buildOutput = `${result.stdout}\n${result.stderr}`;
      if (result.exitCode !== 0) throw new Error(`the build failed:\n${buildOutput.slice(-6000)}`);
      tar = join(work, "out.tar");
      const listing = execFileSync("tar", ["-tvf", tar], {
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
      }).split("\n");
      members = [];
      links = new Map();
      for (const line of listing) {
        const m = /^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+(\.\/.*?)(?: -> (.*))?$/.exec(line);
        if (!m?.[1]) continue;
        members.push(m[1].replace(/^\./, ""));
        if (m[2] !== undefined) links.set(m[1].replace(/^\./, ""), m[2]);
      }
      dpkgInstalled = new Set(
        file("/var/lib/dpkg/status")
          .split("\n\n")
          .filter((stanza) => /^Status: install ok installed$/m.test(stanza))
          .map((stanza) => /^Package: (\S+)$/m.exec(stanza)?.[1] ?? ""),
      );
    }, 1_800_000);

    afterAll(async () => {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      if (work) rmSync(work, { recursive: true, force: true });
      expectHostClean(before, [work]);
    });

    const has = (path: string) => members.includes(path);
    const wanted = (unit: string) =>
      members.some(
        (m) =>
          /^\/etc\/systemd\/system\/[^/]+\.target\.wants\/[^/]+$/.test(m) && m.endsWith(`/${unit}`),
      );

    it("simple-init: glean from the local wheel in /usr/glean, hooked into boot with ifupdown", () => {
      expect(has("/usr/glean/bin/python3")).toBe(true);
      expect(
        members.some((m) =>
          /\/usr\/glean\/lib\/python3[.\d]*\/site-packages\/glean-0\.0\.1\.dist-info\/$/.test(m),
        ),
      ).toBe(true);
      for (const tool of ["glean", "glean-install"]) {
        expect(links.get(`/usr/local/bin/${tool}`)).toBe(`/usr/glean/bin/${tool}`);
      }
      // glean-install ran without --use-nm, and its udev rule and unit are in place.
      expect(file("/etc/glean-install.args")).toBe("\n");
      expect(file("/etc/udev/rules.d/99-glean.rules")).toContain("glean@$name.service");
      expect(file("/usr/lib/systemd/system/glean@.service")).toContain(
        "ExecStart=/usr/local/bin/glean --interface %I",
      );
      expect(file("/etc/modules-load.d/simple-init-8021q.conf")).toBe("8021q\n");
      expect(file("/etc/network/interfaces")).toBe(
        "# Written by simple-init: glean configures the other interfaces at boot.\n" +
          "auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n",
      );
      expect(members.filter((m) => /^\/etc\/network\/interfaces\.d\/(eth|en)/.test(m))).toEqual([]);
      for (const pkg of ["ifupdown", "isc-dhcp-client", "net-tools", "python3-venv"]) {
        expect(dpkgInstalled.has(pkg), pkg).toBe(true);
      }
      expect(dpkgInstalled.has("cloud-init")).toBe(false);
      expect(wanted("networking.service")).toBe(true);
      // glean's repository was not cloned for the pip install type.
      expect(members.filter((m) => m.startsWith("/tmp/glean.git"))).toEqual([]);
    });

    it("pip-cache: pip in the chroot cached into $DIB_IMAGE_CACHE/pip, and the image has none of it", () => {
      expect(newerFiles(join(cache, "pip"), buildStarted).length).toBeGreaterThan(0);
      expect(members.filter((m) => m.startsWith("/tmp/pip/") && m !== "/tmp/pip/")).toEqual([]);
    });

    it("ibft-interfaces: open-iscsi, the modules and the enabled unit", () => {
      expect(dpkgInstalled.has("open-iscsi")).toBe(true);
      expect(has("/usr/sbin/iscsistart") || has("/sbin/iscsistart")).toBe(true);
      expect(file("/etc/modules-load.d/ibft.conf")).toMatch(/^iscsi_ibft$/m);
      expect(has("/usr/local/sbin/init-ibft-interfaces")).toBe(true);
      expect(has("/usr/lib/systemd/system/init-ibft-interfaces.service")).toBe(true);
      expect(wanted("init-ibft-interfaces.service")).toBe(true);
    });

    it("journal-to-console and dynamic-login: the drop-in, the script and its enabled unit", () => {
      expect(file("/etc/systemd/journald.conf.d/log-to-console.conf")).toMatch(
        /^ForwardToConsole=yes$/m,
      );
      expect(has("/usr/local/bin/dynamic-login")).toBe(true);
      expect(file("/usr/lib/systemd/system/dynamic-login.service")).toContain(
        "ExecStart=/usr/local/bin/dynamic-login",
      );
      expect(wanted("dynamic-login.service")).toBe(true);
    });

    it("openstack-ci-mirrors: without a CI mirror file, apt's signature checks stay on", () => {
      expect(has("/etc/apt/apt.conf.d/99unauthenticated")).toBe(false);
    });

    it("cleanup-kernel-initrd: the one kernel and its initrd stay", () => {
      const kernels = members.filter((m) => /^\/boot\/vmlinuz-/.test(m));
      const initrds = members.filter((m) => /^\/boot\/initrd\.img-/.test(m));
      expect(kernels).toHaveLength(1);
      expect(initrds).toEqual([kernels[0]?.replace("vmlinuz-", "initrd.img-")]);
    });

    it("growvols and dkms: the tools, the boot configuration and the packages", () => {
      expect(has("/usr/local/sbin/growvols")).toBe(true);
      expect(file("/etc/default/growvols")).toContain('GROWVOLS_ARGS="img-rootfs=100%"');
      expect(wanted("growvols.service")).toBe(true);
      for (const pkg of ["lvm2", "gdisk", "parted", "xfsprogs", "dkms"]) {
        expect(dpkgInstalled.has(pkg), pkg).toBe(true);
      }
      expect(buildOutput).not.toMatch(/^error /m);
    });
  },
);
