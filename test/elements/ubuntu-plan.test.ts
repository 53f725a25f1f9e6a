import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  discoverElements,
  readPackageInstalls,
  resolveImageElements,
  squashPackageInstalls,
} from "@dib/elements";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { elementFile, elementsDir, runScript, tempDir } from "./element-harness.js";

/**
 * Plan tests for the Ubuntu elements: Ubuntu's archive cannot be reached from here, so the
 * real hook scripts run with recording stand-ins for mmdebstrap, debootstrap, chroot (apt-get
 * inside it) and mount, and what they were asked to do is compared with what Ubuntu documents
 * for each release: the archive at archive.ubuntu.com/ubuntu (ports.ubuntu.com/ubuntu-ports for
 * other architectures) with the release and its -updates, -security and -backports pockets, the
 * main and universe components, the archive keyring, and the kernel metapackages
 * (linux-image-generic, -kvm, -virtual, linux-generic-hwe-<version>).
 */
const RELEASES = ["xenial", "bionic", "focal", "jammy", "noble"] as const;
const HWE: Record<(typeof RELEASES)[number], string> = {
  xenial: "",
  bionic: "linux-generic-hwe-18.04",
  focal: "linux-generic-hwe-20.04",
  jammy: "linux-generic-hwe-22.04",
  noble: "linux-generic-hwe-24.04",
};
const UBUNTU_KEYRING = "/usr/share/keyrings/ubuntu-archive-keyring.gpg";

const work = tempDir("ubuntu-plan");
afterAll(() => work.remove());

/** The environment after sourcing the elements' environment.d files in DIB's order (by file name). */
async function environment(
  elements: string[],
  env: Record<string, string>,
): Promise<Record<string, string>> {
  const files = elements
    .flatMap((e) => {
      const dir = elementFile(e, "environment.d");
      return existsSync(dir) ? readdirSync(dir).map((f) => ({ f, path: join(dir, f) })) : [];
    })
    .sort((a, b) => (a.f < b.f ? -1 : a.f > b.f ? 1 : 0))
    .map((x) => x.path);
  const script = `set -eu\n${files.map((f) => `source '${f}'`).join("\n")}\nenv -0`;
  const r = await runScript("/bin/bash", ["-c", script], env);
  expect(r.exitCode, r.stderr).toBe(0);
  return Object.fromEntries(
    r.stdout
      .split("\0")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** Stand-ins that write their argv (one per line) to $RECORD/<name>.<n>. */
function standIns(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const record = `n=0; while [ -e "$RECORD/$(basename "$0").$n" ]; do n=$((n + 1)); done
printf '%s\\n' "$@" >"$RECORD/$(basename "$0").$n"`;
  const write = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\nset -eu\n${record}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // mmdebstrap SUITE TARBALL MIRROR: a tiny tree with the files a real one leaves behind.
  write(
    "mmdebstrap",
    `args=("$@"); tarball=\${args[$(($# - 2))]}
tree=$(mktemp -d); mkdir -p "$tree/etc/apt/sources.list.d" "$tree/usr/bin"
echo "deb $3 from-the-tool" >"$tree/etc/apt/sources.list"; echo host >"$tree/etc/hostname"
echo "Types: deb" >"$tree/etc/apt/sources.list.d/ubuntu.sources"
tar -C "$tree" -cf - . | zstd -q >"$tarball"; rm -rf "$tree"`,
  );
  // debootstrap [options] SUITE TARGET MIRROR [SCRIPT]
  write(
    "debootstrap",
    `for a in "$@"; do case "$a" in --*) ;; *) pos+=("$a") ;; esac; done
mkdir -p "\${pos[1]}/etc/apt" "\${pos[1]}/usr/bin"; echo "deb x y" >"\${pos[1]}/etc/apt/sources.list"`,
  );
  write("chroot", "");
  write("mount", "");
  write("umount", "");
  writeFileSync(join(bin, "mountpoint"), "#!/bin/sh\nexit 1\n");
  chmodSync(join(bin, "mountpoint"), 0o755);
  return bin;
}

function recorded(dir: string, name: string): string[][] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${name}.`))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]))
    .map((f) => readFileSync(join(dir, f), "utf8").trimEnd().split("\n"));
}

let caseNo = 0;
/** Runs one hook with the stand-ins first on PATH; returns the record folder. */
async function runHook(hook: string[], env: Record<string, string>) {
  const dir = join(work.dir, `case-${caseNo++}`);
  const record = join(dir, "record");
  mkdirSync(record, { recursive: true });
  const bin = standIns(dir);
  const target = env.TARGET_ROOT ?? join(dir, "root");
  mkdirSync(target, { recursive: true });
  const r = await runScript(elementFile(hook[0] as string, ...hook.slice(1)), [], {
    ...env,
    TARGET_ROOT: target,
    RECORD: record,
    PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    DIB_IMAGE_CACHE: env.DIB_IMAGE_CACHE ?? join(dir, "cache"),
    DIB_LOCKFILES: join(dir, "locks"),
  });
  return { ...r, record, target };
}

const keyring = join(work.dir, "test-archive-keyring.gpg");
beforeAll(() => writeFileSync(keyring, "not really a key, only a file to pass along\n"));

const ubuntuEnv = (release: string, arch = "amd64") =>
  environment(["debootstrap", "ubuntu-common", "ubuntu-minimal"], {
    DIB_RELEASE: release,
    ARCH: arch,
  });

describe.each(RELEASES)("ubuntu-minimal %s", (release) => {
  it("sets the archive, pockets, components, keyring and base packages Ubuntu documents", async () => {
    const env = await ubuntuEnv(release);
    expect(env.DISTRO_NAME).toBe("ubuntu");
    expect(env.DIB_INIT_SYSTEM).toBe("systemd");
    expect(env.EFI_BOOT_DIR).toBe("EFI/ubuntu");
    expect(env.DIB_DEBIAN_COMPONENTS).toBe("main,universe");
    expect(env.DIB_APT_KEYRING).toBe(UBUNTU_KEYRING);
    const archive = "http://archive.ubuntu.com/ubuntu";
    expect(env.DIB_DISTRIBUTION_MIRROR).toBe(archive);
    expect(env.DIB_APT_SOURCES_CONF?.split("\n")).toEqual([
      `default:deb ${archive} ${release} main universe`,
      `updates:deb ${archive} ${release}-updates main universe`,
      `security:deb ${archive} ${release}-security main universe`,
      `backports:deb ${archive} ${release}-backports main universe`,
    ]);
    expect(env.DIB_DEBOOTSTRAP_BASE_PACKAGES).toBe("systemd-sysv busybox sudo python3");
    const arm = await ubuntuEnv(release, "arm64");
    expect(arm.DIB_DISTRIBUTION_MIRROR).toBe("http://ports.ubuntu.com/ubuntu-ports");
  });

  it("bootstraps with mmdebstrap from the Ubuntu archive with its keyring, and caches the result", async () => {
    const env = await ubuntuEnv(release);
    const cache = join(work.dir, `cache-${release}`);
    const run = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_APT_KEYRING: keyring,
      DIB_IMAGE_CACHE: cache,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const [argv] = recorded(run.record, "mmdebstrap");
    expect(argv?.slice(0, 5)).toEqual([
      "--variant=minbase",
      "--components=main,universe",
      "--architectures=amd64",
      "--include=apt,tzdata",
      `--keyring=${keyring}`,
    ]);
    expect(argv?.[5]).toBe(release);
    expect(argv?.[6]).toMatch(/\/bootstrap\.tar\.(zst|gz)$/);
    expect(argv?.[7]).toBe("http://archive.ubuntu.com/ubuntu");
    // The tool's own sources and the host's hostname are gone; the OS element writes its own.
    expect(existsSync(join(run.target, "etc/apt/sources.list"))).toBe(false);
    expect(readdirSync(join(run.target, "etc/apt/sources.list.d"))).toEqual([]);
    expect(existsSync(join(run.target, "etc/hostname"))).toBe(false);
    expect(
      readdirSync(cache).some((f) => f.startsWith(`debootstrap-ubuntu-${release}-amd64-`)),
    ).toBe(true);
  });

  it("bootstraps with debootstrap, with a script for releases the host's debootstrap does not know", async () => {
    const env = await ubuntuEnv(release);
    const run = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_APT_KEYRING: keyring,
      DIB_DEBOOTSTRAP_TOOL: "debootstrap",
      DIB_DEBOOTSTRAP_CACHE: "0",
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const [argv] = recorded(run.record, "debootstrap");
    expect(argv).toContain("--variant=minbase");
    expect(argv).toContain("--components=main,universe");
    expect(argv).toContain(`--keyring=${keyring}`);
    const positional = (argv ?? []).filter((a) => !a.startsWith("--"));
    expect(positional[0]).toBe(release);
    expect(positional[2]).toBe("http://archive.ubuntu.com/ubuntu");
    const known = existsSync(`/usr/share/debootstrap/scripts/${release}`);
    expect(positional[3]).toBe(known ? undefined : "/usr/share/debootstrap/scripts/gutsy");
  });

  it("writes the sources and keyring, then upgrades and installs the base packages in the chroot", async () => {
    const env = await ubuntuEnv(release);
    const run = await runHook(["debootstrap", "root.d", "75-debootstrap-baseinstall"], {
      ...env,
      DIB_APT_KEYRING: keyring,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const sources = join(run.target, "etc/apt/sources.list.d");
    const archive = "http://archive.ubuntu.com/ubuntu";
    expect(readFileSync(join(sources, "default.list"), "utf8")).toBe(
      `deb ${archive} ${release} main universe\n`,
    );
    for (const pocket of ["updates", "security", "backports"]) {
      expect(readFileSync(join(sources, `${pocket}.list`), "utf8")).toBe(
        `deb ${archive} ${release}-${pocket} main universe\n`,
      );
    }
    expect(
      readFileSync(join(run.target, "etc/apt/trusted.gpg.d/dib-archive-keyring.gpg"), "utf8"),
    ).toBe(readFileSync(keyring, "utf8"));
    const aptCalls = recorded(run.record, "chroot").map((argv) => {
      const i = argv.indexOf("apt-get");
      const args = argv.slice(i + 1).filter((a) => !a.startsWith("-") && !a.includes("::"));
      return args.join(" ");
    });
    expect(aptCalls).toEqual([
      "update",
      "dist-upgrade",
      "install systemd-sysv busybox sudo python3",
    ]);
    // proc, sys, dev and dev/pts are mounted for apt.
    expect(recorded(run.record, "mount").length).toBeGreaterThanOrEqual(4);
  });

  it("picks the kernel metapackage DIB_UBUNTU_KERNEL names, per architecture", async () => {
    const installs = await readPackageInstalls(join(elementsDir, "ubuntu-minimal"));
    const kernelFor = async (kernel: string, arch: string) => {
      const env = await environment(["debootstrap", "ubuntu-common", "ubuntu-minimal"], {
        DIB_RELEASE: release,
        ARCH: arch,
        DIB_UBUNTU_KERNEL: kernel,
      });
      const squashed = squashPackageInstalls(
        [{ name: "ubuntu-minimal", packageInstalls: installs }],
        env,
      );
      return (squashed["install.d"]?.install ?? []).map(([p]) => p).sort();
    };
    expect(await kernelFor("linux-image-generic", "amd64")).toEqual([
      "initramfs-tools",
      "linux-image-generic",
    ]);
    // The short flavour name is accepted too.
    expect(await kernelFor("virtual", "amd64")).toEqual(["initramfs-tools", "linux-image-virtual"]);
    expect(await kernelFor("kvm", "amd64")).toEqual(["initramfs-tools", "linux-image-kvm"]);
    // Ubuntu has no kvm flavour for arm64.
    expect(await kernelFor("kvm", "arm64")).toEqual(["initramfs-tools"]);
    expect(await kernelFor("generic", "arm64")).toEqual(
      release === "xenial"
        ? ["initramfs-tools", "linux-generic-hwe-16.04"]
        : ["initramfs-tools", "linux-image-generic"],
    );
    const hwe = HWE[release];
    expect(await kernelFor("hwe", "amd64")).toEqual(
      hwe === "" ? ["initramfs-tools"] : [hwe, "initramfs-tools"].sort(),
    );
  });

  it("maps the stock elements' generic package names to Ubuntu's", async () => {
    const maps = join(work.dir, `pkg-maps-${release}`);
    mkdirSync(maps, { recursive: true });
    for (const element of readdirSync(elementsDir)) {
      if (existsSync(elementFile(element, "pkg-map"))) {
        copyFileSync(elementFile(element, "pkg-map"), join(maps, element));
      }
    }
    const map = async (element: string, ...names: string[]) => {
      const r = await runScript(
        elementFile("pkg-map", "bin", "pkg-map"),
        ["--element", element, ...names],
        {
          DIB_PKG_MAP_DIR: maps,
          DISTRO_NAME: "ubuntu",
          DIB_RELEASE: release,
        },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      return r.stdout.split("\n");
    };
    expect(await map("bootloader", "grub_bios", "grub_efi_amd64")).toEqual([
      "grub-pc",
      "grub-efi-amd64",
    ]);
    expect(
      await map("grub2", "signed_grub_efi_amd64", "signed_shim_efi", "signed_grub_efi_arm64"),
    ).toEqual(["grub-efi-amd64-signed", "shim-signed", "grub-efi-arm64-signed"]);
    expect(await map("growroot", "growpart")).toEqual(["cloud-guest-utils"]);
    expect(await map("base", "iscsi_package")).toEqual(["open-iscsi"]);
  });
});

describe("the Ubuntu operating-system elements", () => {
  it.each(["ubuntu-minimal", "ubuntu"])(
    "%s resolves with vm and every block-device element",
    async (os) => {
      const catalog = await discoverElements({ elementsPath: elementsDir });
      const layouts = readdirSync(elementsDir).filter((e) => e.startsWith("block-device-"));
      expect(layouts.length).toBeGreaterThanOrEqual(5);
      for (const arch of ["amd64", "arm64"]) {
        // vm alone picks the architecture's default layout (mbr on amd64, efi on arm64).
        for (const extra of [[], ...layouts.map((l) => [l])]) {
          const resolved = resolveImageElements([os, "vm", ...extra], catalog, { arch });
          const names = resolved.elements.map((e) => e.name);
          expect(resolved.provided["operating-system"]).toBe(os);
          expect(names).toEqual(
            expect.arrayContaining(["base", "bootloader", "dpkg", "sysprep", "ubuntu-common"]),
          );
          expect(resolved.provided["block-device"]).toBe(
            extra[0] ?? (arch === "arm64" ? "block-device-efi" : "block-device-mbr"),
          );
        }
      }
    },
  );
});

describe("ubuntu-common hooks", () => {
  it("turns IPv6 temporary addresses off and autoremoves (plan: the files and commands they write/run)", async () => {
    const text = readFileSync(
      elementFile("ubuntu-common", "install.d", "80-disable-ipv6-temporary-addresses"),
      "utf8",
    );
    expect(text).toContain("/etc/sysctl.d/99-cloudimg-ipv6.conf");
    expect(text).toMatch(/^net\.ipv6\.conf\.all\.use_tempaddr=0$/m);
    expect(text).toMatch(/^net\.ipv6\.conf\.default\.use_tempaddr=0$/m);
    const autoremove = readFileSync(
      elementFile("ubuntu-common", "post-install.d", "99-ubuntu-autoremove"),
      "utf8",
    );
    expect(autoremove).toMatch(/apt-get --assume-yes autoremove/);
  });
});

describe("DIB's variable names", () => {
  const debianEnv = (extra: Record<string, string> = {}) =>
    environment(["debootstrap", "debian-minimal"], {
      DIB_RELEASE: "bookworm",
      ARCH: "amd64",
      DIB_DISTRIBUTION_MIRROR: "http://deb.debian.org/debian",
      DIB_DEBIAN_SECURITY_MIRROR: "http://deb.debian.org/debian-security",
      ...extra,
    });

  it("DIB_DEBIAN_KEYRING passes the keyring when DIB_APT_KEYRING is unset", async () => {
    const env = await debianEnv();
    const run = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_DEBIAN_KEYRING: keyring,
      DIB_DEBOOTSTRAP_CACHE: "0",
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(recorded(run.record, "mmdebstrap")[0]).toContain(`--keyring=${keyring}`);
  });

  it("DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE reuses the cached bootstrap even with DIB_DEBOOTSTRAP_CACHE=0 and past its age", async () => {
    const env = await debianEnv();
    const cache = join(work.dir, "cache-use-debootstrap-cache");
    const first = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_IMAGE_CACHE: cache,
    });
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_IMAGE_CACHE: cache,
      DIB_DEBOOTSTRAP_CACHE: "0",
      DIB_DEBOOTSTRAP_CACHE_MAX_AGE: "0",
      DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE: "1",
    });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toContain("Using cached debian bookworm bootstrap");
    expect(recorded(second.record, "mmdebstrap")).toEqual([]);
    // Without it, DIB_DEBOOTSTRAP_CACHE=0 bootstraps again.
    const third = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_IMAGE_CACHE: cache,
      DIB_DEBOOTSTRAP_CACHE: "0",
    });
    expect(recorded(third.record, "mmdebstrap")).toHaveLength(1);
  });

  it("DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE uses a tarball DIB itself cached", async () => {
    const env = await debianEnv();
    const cache = join(work.dir, "cache-dib-named");
    const tree = join(work.dir, "dib-tree");
    mkdirSync(join(tree, "etc"), { recursive: true });
    writeFileSync(join(tree, "etc/made-by-dib"), "yes\n");
    mkdirSync(cache, { recursive: true });
    await execa("tar", [
      "-C",
      tree,
      "-czf",
      join(cache, "debootstrap-debian-bookworm-amd64.tar.gz"),
      ".",
    ]);
    const run = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_IMAGE_CACHE: cache,
      DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE: "1",
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain("Using DIB's cached debian bookworm bootstrap");
    expect(readFileSync(join(run.target, "etc/made-by-dib"), "utf8")).toBe("yes\n");
    expect(recorded(run.record, "mmdebstrap")).toEqual([]);
  });

  it("DIB_DEBIAN_SECURITY_PATH names the security suite", async () => {
    expect((await debianEnv()).DIB_APT_SOURCES_CONF?.split("\n")[2]).toBe(
      "security:deb http://deb.debian.org/debian-security bookworm-security main",
    );
    expect(
      (
        await debianEnv({ DIB_DEBIAN_SECURITY_PATH: "bookworm-security" })
      ).DIB_APT_SOURCES_CONF?.split("\n")[2],
    ).toBe("security:deb http://deb.debian.org/debian-security bookworm-security main");
    expect(
      (await debianEnv({ DIB_DEBIAN_SECURITY_PATH: "stable" })).DIB_APT_SOURCES_CONF?.split(
        "\n",
      )[2],
    ).toBe("security:deb http://deb.debian.org/debian-security stable-security main");
  });

  it("debian-minimal's base install keeps its own package list (gnupg) through the shared script", async () => {
    const env = await debianEnv();
    const run = await runHook(["debootstrap", "root.d", "75-debootstrap-baseinstall"], env);
    expect(run.exitCode, run.stderr).toBe(0);
    const install = recorded(run.record, "chroot").at(-1) ?? [];
    expect(install.slice(install.indexOf("install") + 1)).toEqual([
      "systemd-sysv",
      "busybox",
      "sudo",
      "gnupg",
      "python3",
    ]);
    expect(existsSync(join(run.target, "etc/apt/trusted.gpg.d"))).toBe(false);
  });

  it("a missing Ubuntu keyring is refused before anything is bootstrapped, with the package to install", async () => {
    const env = await ubuntuEnv("noble");
    const run = await runHook(["debootstrap", "root.d", "08-debootstrap"], {
      ...env,
      DIB_APT_KEYRING: join(work.dir, "absent", "ubuntu-archive-keyring.gpg"),
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("apt-get install ubuntu-keyring");
    expect(recorded(run.record, "mmdebstrap")).toEqual([]);
  });

  it("DIB_ARM_KERNEL installs the armhf kernel flavour, and armhf without it is refused", async () => {
    const dir = join(work.dir, "arm");
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "install-packages"), `#!/bin/sh\necho "$@" >"${dir}/installed"\n`);
    chmodSync(join(bin, "install-packages"), 0o755);
    const hook = elementFile("debian-minimal", "install.d", "05-debian-arm-kernel");
    const path = `${bin}:/usr/bin:/bin`;
    const ok = await runScript(hook, [], { ARCH: "armhf", DIB_ARM_KERNEL: "armmp", PATH: path });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(readFileSync(join(dir, "installed"), "utf8")).toBe("linux-image-armmp\n");
    const missing = await runScript(hook, [], { ARCH: "armhf", PATH: path });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("DIB_ARM_KERNEL");
    expect((await runScript(hook, [], { ARCH: "amd64", PATH: path })).exitCode).toBe(0);
  });

  it("DIB_DEBIAN_ALT_INIT_PACKAGE installs another init; DIB's default value changes nothing", async () => {
    const dir = join(work.dir, "alt-init");
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "install-packages"), `#!/bin/sh\necho "$@" >>"${dir}/installed"\n`);
    chmodSync(join(bin, "install-packages"), 0o755);
    const hook = elementFile("debian", "install.d", "10-debian-alt-init");
    const path = `${bin}:/usr/bin:/bin`;
    expect(
      (await runScript(hook, [], { DIB_DEBIAN_ALT_INIT_PACKAGE: "sysvinit", PATH: path })).exitCode,
    ).toBe(0);
    expect((await runScript(hook, [], { PATH: path })).exitCode).toBe(0);
    expect(existsSync(join(dir, "installed"))).toBe(false);
    const r = await runScript(hook, [], {
      DIB_DEBIAN_ALT_INIT_PACKAGE: "sysvinit-core",
      PATH: path,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "installed"), "utf8")).toBe("sysvinit-core\n");
  });
});
