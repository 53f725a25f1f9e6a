import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
 * Eleven stock elements ported from DIB, checked in real bookworm images with as few builds
 * as possible:
 *
 * 1. one `debian-minimal vm` build with element-manifest, apt-conf, apt-sources,
 *    apt-preferences, cloud-init(-growpart, -disable-resizefs), disable-nouveau, posix,
 *    autoupdates and fail2ban (and devuser, to log in below), written as a tar (read here)
 *    and a raw disk;
 * 2. a `replace-partition vm block-device-gpt` build that re-lays that MBR disk out as GPT
 *    without installing anything (seconds: no bootstrap, no apt);
 * 3. one boot of the re-laid image: it must come up, and the services the elements enabled
 *    (fail2ban with its sshd jail on the journal, unattended-upgrades) must be running.
 */
const cache = testImageCache;
const mirror = (process.env.DIB_DISTRIBUTION_MIRROR ?? "http://deb.debian.org/debian").replace(
  /\/+$/,
  "",
);
const securityMirror = (
  process.env.DIB_DEBIAN_SECURITY_MIRROR ?? "http://deb.debian.org/debian-security"
).replace(/\/+$/, "");

const ELEMENTS_A = [
  "debian-minimal",
  "vm",
  "devuser",
  "cloud-init",
  "element-manifest",
  "apt-conf",
  "apt-sources",
  "apt-preferences",
  "cloud-init-growpart",
  "cloud-init-disable-resizefs",
  "disable-nouveau",
  "posix",
  "autoupdates",
  "fail2ban",
];

/** POSIX utilities that are commands of their own (not builtins), as the posix element maps them. */
const POSIX_COMMANDS = [
  "ar",
  "at",
  "awk",
  "batch",
  "bc",
  "c99",
  "cal",
  "cflow",
  "compress",
  "crontab",
  "ctags",
  "cxref",
  "ed",
  "ex",
  "file",
  "fort77",
  "fuser",
  "gencat",
  "lex",
  "lp",
  "m4",
  "mailx",
  "make",
  "man",
  "mesg",
  "more",
  "nm",
  "patch",
  "pax",
  "sccs",
  "strings",
  "tabs",
  "talk",
  "time",
  "tput",
  "uucp",
  "uudecode",
  "uuencode",
  "uustat",
  "uux",
  "vi",
  "write",
  "yacc",
  "zcat",
];

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024, input });
}

interface Built {
  out: string;
  seconds: number;
}

describe.runIf(isRoot)(`stock elements (b) in real bookworm images${rootOnlyReason}`, () => {
  let work = "";
  const host = new Host();
  let buildA: Promise<Built>;
  let buildB: Promise<Built>;
  let members = new Set<string>();
  let tarA = "";

  const input = (name: string, text: string) => {
    const path = join(work, "inputs", name);
    writeFileSync(path, text);
    return path;
  };
  const fileInA = (path: string) => sh("tar", ["-xOf", tarA, `./${path}`]);

  async function build(name: string, args: string[], env: Record<string, string>): Promise<Built> {
    const tmpDir = join(work, `${name}-tmp`);
    mkdirSync(tmpDir);
    const out = join(work, name);
    const before = hostSnapshot();
    const started = Date.now();
    const result = await runCli(["build", ...args, "-o", out], {
      env: { DIB_IMAGE_CACHE: cache, TMP_DIR: tmpDir, ...env },
    });
    if (result.exitCode !== 0) {
      throw new Error(`${name}: build failed (${result.exitCode})\n${result.stderr.slice(-4000)}`);
    }
    expectHostClean(before, [tmpDir, work]);
    return { out, seconds: Math.round((Date.now() - started) / 1000) };
  }

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "dib-e2e-stock-b-"));
    mkdirSync(join(work, "inputs"));
    const env = {
      DIB_RELEASE: "bookworm",
      DIB_DEV_USER_USERNAME: "devuser",
      DIB_DEV_USER_PASSWORD: "devuser",
      DIB_DEV_USER_PWDLESS_SUDO: "yes",
      DIB_APT_CONF: input("apt.conf", '// from the e2e test (apt-conf)\nAcquire::Retries "7";\n'),
      DIB_APT_SOURCES: input(
        "sources.list",
        "# from the e2e test (apt-sources)\n" +
          `deb ${mirror} bookworm main\n` +
          `deb ${mirror} bookworm-updates main\n` +
          `deb ${securityMirror} bookworm-security main\n`,
      ),
      // bc and ed are in bookworm's main suite at these versions, with no updates.
      DIB_DPKG_MANIFEST: input(
        "dib-manifest-dpkg-old",
        JSON.stringify({
          packages: [
            { package: "bc", arch: "amd64", version: "1.07.1-3+b1" },
            { package: "ed", arch: "amd64", version: "1.19-1" },
          ],
        }),
      ),
      DIB_CLOUD_INIT_GROWPART_DEVICES: "/dev/vda1 /",
      DIB_DEB_UPDATES_CONF: input(
        "50unattended-upgrades",
        "// from the e2e test (autoupdates)\n" +
          'Unattended-Upgrade::Origins-Pattern { "origin=Debian,codename=bookworm,label=Debian-Security"; };\n',
      ),
      DIB_FAIL2BAN_CONF: input(
        "jail.local",
        "# from the e2e test (fail2ban)\n[DEFAULT]\nbackend = systemd\n\n[sshd]\nenabled = true\nmaxretry = 4\n",
      ),
    };
    buildA = build("a", [...ELEMENTS_A, "-t", "tar,raw"], env);
    buildB = buildA.then((a) =>
      build("b", ["replace-partition", "vm", "block-device-gpt", "-t", "tar,qcow2,raw"], {
        DISTRO_NAME: "debian",
        DIB_RELEASE: "bookworm",
        EFI_BOOT_DIR: "EFI/debian",
        DIB_INIT_SYSTEM: "systemd",
        DIB_LOCAL_IMAGE: `${a.out}.raw`,
      }),
    );
    buildB.catch(() => undefined);
  });

  afterAll(async () => {
    await Promise.allSettled([buildA, buildB]);
    if (!work) return;
    expectHostClean({ loops: [], mounts: [] }, [work]);
    rmSync(work, { recursive: true, force: true });
  });

  it("builds debian-minimal vm with all of them", async () => {
    const a = await buildA;
    tarA = `${a.out}.tar`;
    members = new Set(sh("tar", ["-tf", tarA]).split("\n"));
    process.stdout.write(`stock-elements-b: image a built in ${a.seconds} s\n`);
  });

  it("element-manifest: the image and the saved manifests list every element, root-only", async () => {
    await buildA;
    const listed = fileInA("etc/dib-manifests/dib-element-manifest").trim().split("\n");
    for (const e of [...ELEMENTS_A, "base", "manifests", "modprobe", "openssh-server"]) {
      expect(listed).toContain(e);
    }
    expect(sh("tar", ["-tvf", tarA, "./etc/dib-manifests/dib-element-manifest"])).toMatch(
      /^-rw------- 0\/0 /,
    );
    const saved = readFileSync(join(work, "a.d", "dib-element-manifest"), "utf8");
    expect(saved.trim().split("\n")).toEqual(listed);
  });

  it("apt-conf, apt-sources and apt-preferences: apt's files are the ones given, and the pins held", async () => {
    await buildA;
    expect(fileInA("etc/apt/apt.conf")).toBe(readFileSync(join(work, "inputs/apt.conf"), "utf8"));
    expect(fileInA("etc/apt/sources.list")).toBe(
      readFileSync(join(work, "inputs/sources.list"), "utf8"),
    );
    // The OS element's per-suite lists are gone: the given file is the only source.
    expect([...members].filter((m) => /^\.\/etc\/apt\/sources\.list\.d\/./.test(m))).toEqual([]);
    expect(fileInA("etc/apt/preferences")).toBe(
      "Package: bc\nPin: version 1.07.1-3+b1\nPin-Priority: 1001\n\n" +
        "Package: ed\nPin: version 1.19-1\nPin-Priority: 1001\n\n",
    );
    const status = fileInA("var/lib/dpkg/status");
    expect(status).toMatch(/^Package: bc\n(?:.+\n)*?Version: 1\.07\.1-3\+b1$/m);
    expect(status).toMatch(/^Package: ed\n(?:.+\n)*?Version: 1\.19-1$/m);
  });

  it("cloud-init-growpart and cloud-init-disable-resizefs: cloud-init's configuration says so", async () => {
    await buildA;
    const growpart = fileInA("etc/cloud/cloud.cfg.d/55-growpart.cfg");
    const parsed = JSON.parse(
      sh(
        "python3",
        ["-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
        growpart,
      ),
    );
    expect(parsed).toEqual({
      growpart: { mode: "auto", devices: ["/dev/vda1", "/"], ignore_growroot_disabled: false },
    });
    expect(members.has("./usr/bin/growpart")).toBe(true);
    const cfg = JSON.parse(
      sh(
        "python3",
        ["-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
        fileInA("etc/cloud/cloud.cfg"),
      ),
    ) as Record<string, unknown>;
    const modules = ["cloud_init_modules", "cloud_config_modules", "cloud_final_modules"].flatMap(
      (k) => (cfg[k] as unknown[]).map((m) => (Array.isArray(m) ? m[0] : m)),
    );
    expect(modules).toContain("bootcmd");
    expect(modules).not.toContain("growpart");
    expect(modules).not.toContain("resizefs");
  });

  it("disable-nouveau: the blacklist is in /etc/modprobe.d and in the initramfs", async () => {
    await buildA;
    expect(fileInA("etc/modprobe.d/disable-nouveau.conf")).toMatch(
      /^blacklist nouveau\noptions nouveau modeset=0\n$/m,
    );
    const initrd = [...members].find((m) => /^\.\/boot\/initrd\.img-/.test(m));
    expect(initrd).toBeDefined();
    const extracted = join(work, "initrd");
    sh("sh", ["-c", `tar -xOf "$1" "$2" >"$3"`, "sh", tarA, initrd as string, extracted]);
    const listing = sh("sh", [
      "-c",
      `{ zstd -dc "$1" 2>/dev/null || gzip -dc "$1" 2>/dev/null || xz -dc "$1"; } | cpio -it --quiet`,
      "sh",
      extracted,
    ]);
    expect(listing.split("\n")).toContain("etc/modprobe.d/disable-nouveau.conf");
  });

  it("posix: every POSIX utility that is a command of its own is installed", async () => {
    await buildA;
    const missing = POSIX_COMMANDS.filter(
      (c) => !members.has(`./usr/bin/${c}`) && !members.has(`./bin/${c}`),
    );
    expect(missing).toEqual([]);
  });

  it("autoupdates and fail2ban: packages, the given configuration, and the services enabled", async () => {
    await buildA;
    expect(fileInA("etc/apt/apt.conf.d/50unattended-upgrades")).toBe(
      readFileSync(join(work, "inputs/50unattended-upgrades"), "utf8"),
    );
    expect(fileInA("etc/apt/apt.conf.d/20auto-upgrades")).toMatch(
      /^APT::Periodic::Unattended-Upgrade "1";$/m,
    );
    expect(fileInA("etc/fail2ban/jail.local")).toBe(
      readFileSync(join(work, "inputs/jail.local"), "utf8"),
    );
    for (const unit of [
      "multi-user.target.wants/unattended-upgrades.service",
      "multi-user.target.wants/fail2ban.service",
      "timers.target.wants/apt-daily-upgrade.timer",
    ]) {
      expect(members.has(`./etc/systemd/system/${unit}`), unit).toBe(true);
    }
    // fail2ban reads the journal through python3-systemd.
    expect(members.has("./usr/lib/python3/dist-packages/systemd/journal.py")).toBe(true);
  });

  it("replace-partition: re-lays the MBR image out as GPT, keeping every file and package", async () => {
    const a = await buildA;
    const b = await buildB;
    process.stdout.write(`stock-elements-b: image b (replace-partition) built in ${b.seconds} s\n`);
    const tableA = JSON.parse(sh("sfdisk", ["--json", `${a.out}.raw`])).partitiontable;
    const tableB = JSON.parse(sh("sfdisk", ["--json", `${b.out}.raw`])).partitiontable;
    expect(tableA.label).toBe("dos");
    expect(tableB.label).toBe("gpt");
    // GRUB was installed again: its boot code in the MBR, its core image in the BIOS boot partition.
    const mbr = execFileSync("dd", [`if=${b.out}.raw`, "bs=512", "count=1", "status=none"]);
    expect(mbr.includes(Buffer.from("GRUB"))).toBe(true);
    const tarB = `${b.out}.tar`;
    const fileInB = (path: string) => sh("tar", ["-xOf", tarB, `./${path}`]);
    // Nothing was installed or removed, and a's own files came along.
    expect(fileInB("var/lib/dpkg/status")).toBe(fileInA("var/lib/dpkg/status"));
    expect(fileInB("etc/dib-manifests/dib-element-manifest")).toBe(
      fileInA("etc/dib-manifests/dib-element-manifest"),
    );
    expect(fileInB("etc/fail2ban/jail.local")).toBe(fileInA("etc/fail2ban/jail.local"));
    expect(fileInB("etc/fstab")).toMatch(/^LABEL=cloudimg-rootfs\s+\/\s+ext4\s/m);
    // Owners and modes are kept (sudo is setuid root).
    expect(sh("tar", ["-tvf", tarB, "--numeric-owner", "./usr/bin/sudo"])).toMatch(
      /^-rwsr-xr-x 0\/0 /,
    );
  });

  it("replace-partition: the re-laid image boots, and fail2ban and unattended-upgrades run in it", async () => {
    const b = await buildB;
    const result = await bootTest({
      host,
      image: `${b.out}.qcow2`,
      login: { user: "devuser", password: "devuser" },
      timeoutMs: 600_000,
      commands: [
        "sudo -n blkid -p -o value -s PTTYPE /dev/vda",
        // The login prompt can come before every service has started: wait, at most 60 s.
        "for i in $(seq 60); do systemctl is-active --quiet fail2ban && break; sleep 1; done; systemctl is-active fail2ban unattended-upgrades apt-daily-upgrade.timer",
        "sudo -n fail2ban-client status sshd | grep -o 'Journal matches:.*' || sudo -n fail2ban-client status sshd",
        "grep -c nouveau /proc/modules || true",
      ],
    });
    const tail = result.consoleTail.join("\n");
    expect(result.ok, `${result.failure?.message ?? ""}\n${tail}`).toBe(true);
    const [label, active, jail, nouveau] = result.commandResults;
    expect(label?.output.trim()).toBe("gpt");
    expect(active?.output.trim().split(/\s+/)).toEqual(["active", "active", "active"]);
    expect(jail?.output).toContain("_SYSTEMD_UNIT=sshd.service");
    expect(nouveau?.output.trim()).toBe("0");
    process.stdout.write(
      `stock-elements-b: image b at the login prompt after ${result.secondsToPrompt} s (${result.accel})\n`,
    );
  });
});
