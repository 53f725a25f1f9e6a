import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Host, Ledger } from "@dib/host";
import { isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  elementFile,
  hasCommand,
  haveMinbase,
  minbaseSkipReason,
  runScript,
  tempDir,
} from "./element-harness.js";
import { hookInTree, useCheckedDir, useMinbaseTree } from "./minbase-tree.js";

/** Writes an executable bash stand-in. */
function script(path: string, body: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `#!/bin/bash\nset -eu\n${body}\n`);
  chmodSync(path, 0o755);
}

describe("cleanup-kernel-initrd", () => {
  const work = tempDir("cleanup-kernel");
  afterAll(() => work.remove());
  const hook = elementFile("cleanup-kernel-initrd", "cleanup.d", "99-cleanup-kernel-initrd");

  function tree(name: string, files: string[]): string {
    const root = join(work.dir, name);
    mkdirSync(join(root, "boot"), { recursive: true });
    mkdirSync(join(root, "etc"), { recursive: true });
    for (const f of files) writeFileSync(join(root, f), "x");
    return root;
  }

  it("keeps only the newest kernel that has an initrd, comparing versions whole", async () => {
    const kept = [
      "boot/vmlinuz-6.1.0-10-amd64",
      "boot/initrd.img-6.1.0-10-amd64",
      "boot/System.map-6.1.0-10-amd64",
      "boot/config-6.1.0-10-amd64",
      "boot/vmlinuz-6.1.0-1-debug",
      "boot/grub.cfg-keep",
    ];
    const removed = [
      "boot/vmlinuz-6.1.0-9-amd64",
      "boot/initrd.img-6.1.0-9-amd64",
      "boot/System.map-6.1.0-9-amd64",
      "boot/config-6.1.0-9-amd64",
      // newer, but with no initrd the image does not boot it
      "boot/vmlinuz-6.1.0-11-amd64",
      "boot/config-6.1.0-11-amd64",
    ];
    const root = tree("debian", ["etc/debian_version", ...kept, ...removed]);
    const r = await runScript(hook, [], { TARGET_ROOT: root });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    for (const f of kept) expect(existsSync(join(root, f)), f).toBe(true);
    for (const f of removed) expect(existsSync(join(root, f)), f).toBe(false);
    expect(r.stdout).toContain("removing kernel 6.1.0-9-amd64 (the image boots 6.1.0-10-amd64)");
  });

  it("knows the Red Hat family's initramfs names", async () => {
    const root = tree("redhat", [
      "etc/redhat-release",
      "boot/vmlinuz-5.14.0-70.el9.x86_64",
      "boot/initramfs-5.14.0-70.el9.x86_64.img",
      "boot/.vmlinuz-5.14.0-70.el9.x86_64.hmac",
      "boot/vmlinuz-5.14.0-362.el9.x86_64",
      "boot/initramfs-5.14.0-362.el9.x86_64.img",
    ]);
    expect((await runScript(hook, [], { TARGET_ROOT: root })).exitCode).toBe(0);
    expect(readdirSync(join(root, "boot")).sort()).toEqual([
      "initramfs-5.14.0-362.el9.x86_64.img",
      "vmlinuz-5.14.0-362.el9.x86_64",
    ]);
  });

  it("leaves other distributions' /boot alone", async () => {
    const root = tree("other", [
      "boot/vmlinuz-1",
      "boot/initrd-1",
      "boot/vmlinuz-2",
      "boot/initrd-2",
    ]);
    expect((await runScript(hook, [], { TARGET_ROOT: root })).exitCode).toBe(0);
    expect(readdirSync(join(root, "boot"))).toHaveLength(4);
  });
});

describe("ibft-interfaces' boot script", () => {
  const work = tempDir("ibft");
  afterAll(() => work.remove());
  const bin = join(work.dir, "bin");
  const log = join(work.dir, "log");
  const run = (table: "yes" | "no", configure: "ok" | "fail") => {
    writeFileSync(log, "");
    script(
      join(bin, "iscsistart"),
      `echo "iscsistart $*" >> ${log}\ncase "$1" in -f) [ ${table} = yes ] ;; -N) [ ${configure} = ok ] ;; esac`,
    );
    script(join(bin, "udevadm"), `echo "udevadm $*" >> ${log}`);
    return runScript(
      elementFile("ibft-interfaces", "static/usr/local/sbin/init-ibft-interfaces"),
      [],
      { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
    );
  };

  it("does nothing, successfully, when the firmware has no iBFT table", async () => {
    const r = await run("no", "ok");
    expect(r.exitCode).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("iscsistart -f\n");
  });

  it("configures the interfaces and waits for udev when there is a table", async () => {
    const r = await run("yes", "ok");
    expect(r.exitCode).toBe(0);
    expect(readFileSync(log, "utf8")).toBe("iscsistart -f\niscsistart -N\nudevadm settle\n");
  });

  it("fails when iscsistart cannot configure them", async () => {
    const r = await run("yes", "fail");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("could not configure");
  });
});

describe("openstack-ci-mirrors", () => {
  const work = tempDir("ci-mirrors");
  afterAll(() => work.remove());
  const envFile = elementFile(
    "openstack-ci-mirrors",
    "environment.d",
    "11-dib-distribution-mirror.bash",
  );
  const mirrorInfo = join(work.dir, "mirror_info.sh");
  writeFileSync(
    mirrorInfo,
    [
      "export NODEPOOL_DEBIAN_MIRROR=http://mirror.ci.example/debian",
      "export NODEPOOL_UBUNTU_MIRROR=http://mirror.ci.example/ubuntu",
      "export NODEPOOL_UBUNTU_PORTS_MIRROR=http://mirror.ci.example/ubuntu-ports",
      "export NODEPOOL_CENTOS_MIRROR=http://mirror.ci.example/centos",
      "export NODEPOOL_EPEL_MIRROR=http://mirror.ci.example/epel",
      "",
    ].join("\n"),
  );
  const vars = [
    "DIB_DISTRIBUTION_MIRROR",
    "DIB_DEBOOTSTRAP_EXTRA_ARGS",
    "DIB_OS_CI_MIRROR_INSECURE",
    "DIB_EPEL_MIRROR",
  ];

  /** Sources the environment file twice (as outside, then inside), printing the variables. */
  async function sourced(env: Record<string, string>) {
    const r = await execa(
      "bash",
      [
        "-c",
        `set -eu; source "$1"; source "$1"; for v in ${vars.join(" ")}; do echo "$v=\${!v:-}"; done`,
        "env",
        envFile,
      ],
      { env: { PATH: "/usr/bin:/bin", ...env }, extendEnv: false },
    );
    return Object.fromEntries(r.stdout.split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2)));
  }

  it("points Debian at the CI mirror and turns signature checks off only then", async () => {
    expect(
      await sourced({ DIB_OS_CI_MIRROR_INFO: mirrorInfo, DISTRO_NAME: "debian", ARCH: "amd64" }),
    ).toEqual({
      DIB_DISTRIBUTION_MIRROR: "http://mirror.ci.example/debian",
      DIB_DEBOOTSTRAP_EXTRA_ARGS: " --no-check-gpg",
      DIB_OS_CI_MIRROR_INSECURE: "1",
      DIB_EPEL_MIRROR: "",
    });
  });

  it("uses the ports mirror for Ubuntu on arm64, and EPEL for CentOS with checks on", async () => {
    const ubuntu = await sourced({
      DIB_OS_CI_MIRROR_INFO: mirrorInfo,
      DISTRO_NAME: "ubuntu",
      ARCH: "arm64",
    });
    expect(ubuntu.DIB_DISTRIBUTION_MIRROR).toBe("http://mirror.ci.example/ubuntu-ports");
    const centos = await sourced({
      DIB_OS_CI_MIRROR_INFO: mirrorInfo,
      DISTRO_NAME: "centos",
      ARCH: "amd64",
    });
    expect(centos).toEqual({
      DIB_DISTRIBUTION_MIRROR: "http://mirror.ci.example/centos",
      DIB_DEBOOTSTRAP_EXTRA_ARGS: "",
      DIB_OS_CI_MIRROR_INSECURE: "",
      DIB_EPEL_MIRROR: "http://mirror.ci.example/epel",
    });
  });

  it("changes nothing without a mirror file, or when it names no mirror for the distribution", async () => {
    const none = {
      DIB_DISTRIBUTION_MIRROR: "",
      DIB_DEBOOTSTRAP_EXTRA_ARGS: "",
      DIB_OS_CI_MIRROR_INSECURE: "",
      DIB_EPEL_MIRROR: "",
    };
    expect(
      await sourced({
        DIB_OS_CI_MIRROR_INFO: join(work.dir, "absent"),
        DISTRO_NAME: "debian",
        ARCH: "amd64",
      }),
    ).toEqual(none);
    expect(
      await sourced({ DIB_OS_CI_MIRROR_INFO: mirrorInfo, DISTRO_NAME: "gentoo", ARCH: "amd64" }),
    ).toEqual(none);
  });

  it("copies the mirror file into the hooks and writes apt's insecure config only when told", async () => {
    const hooks = join(work.dir, "hooks");
    mkdirSync(hooks);
    const copy = await runScript(
      elementFile("openstack-ci-mirrors", "extra-data.d", "75-copy-mirror-info"),
      [],
      { TMP_HOOKS_PATH: hooks, DIB_OS_CI_MIRROR_INFO: mirrorInfo },
    );
    expect(copy.exitCode).toBe(0);
    expect(readFileSync(join(hooks, "mirror_info.sh"), "utf8")).toBe(
      readFileSync(mirrorInfo, "utf8"),
    );

    const root = join(work.dir, "root");
    mkdirSync(join(root, "etc/apt/apt.conf.d"), { recursive: true });
    const hook = elementFile("openstack-ci-mirrors", "root.d", "10-apt-disable-gpg");
    expect((await runScript(hook, [], { TARGET_ROOT: root })).exitCode).toBe(0);
    expect(existsSync(join(root, "etc/apt/apt.conf.d/99unauthenticated"))).toBe(false);
    expect(
      (await runScript(hook, [], { TARGET_ROOT: root, DIB_OS_CI_MIRROR_INSECURE: "1" })).exitCode,
    ).toBe(0);
    expect(readFileSync(join(root, "etc/apt/apt.conf.d/99unauthenticated"), "utf8")).toContain(
      'Acquire::AllowInsecureRepositories "true";',
    );
  });
});

describe("simple-init's choices outside the chroot", () => {
  const work = tempDir("simple-init");
  afterAll(() => work.remove());

  it("defaults to NetworkManager on Fedora and CentOS and to ifupdown elsewhere", async () => {
    const file = elementFile("simple-init", "environment.d", "15-simple-init-networkmanager.bash");
    const nm = async (env: Record<string, string>) =>
      execa("bash", ["-c", `source "$1" && echo "$DIB_SIMPLE_INIT_NETWORKMANAGER"`, "env", file], {
        env: { PATH: "/usr/bin:/bin", ...env },
        extendEnv: false,
        reject: false,
      });
    expect((await nm({ DISTRO_NAME: "debian" })).stdout).toBe("0");
    expect((await nm({ DISTRO_NAME: "fedora" })).stdout).toBe("1");
    expect((await nm({ DISTRO_NAME: "debian", DIB_SIMPLE_INIT_NETWORKMANAGER: "1" })).stdout).toBe(
      "1",
    );
    const refused = await nm({
      DISTRO_NAME: "centos",
      DIB_RELEASE: "9-stream",
      DIB_SIMPLE_INIT_NETWORKMANAGER: "0",
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("glean needs DIB_SIMPLE_INIT_NETWORKMANAGER=1");
  });

  it("runs the repo install script for DIB_INSTALLTYPE_simple_init=repo, pip otherwise", async () => {
    const link = async (name: string, env: Record<string, string>) => {
      const hooks = join(work.dir, name);
      cpSync(elementFile("simple-init", "install.d"), join(hooks, "install.d"), {
        recursive: true,
      });
      const r = await runScript(
        elementFile("install-types", "extra-data.d", "99-enable-install-types"),
        [],
        { TMP_HOOKS_PATH: hooks, ...env },
      );
      expect(r.exitCode).toBe(0);
      return readlinkSync(join(hooks, "install.d", "40-glean"));
    };
    expect(await link("repo", { DIB_INSTALLTYPE_simple_init: "repo" })).toBe(
      "simple-init-repo-install/40-glean",
    );
    expect(await link("default", {})).toBe("simple-init-source-install/40-glean");
  });
});

const chrootReason = rootOnlyReason || minbaseSkipReason;

describe.runIf(isRoot && haveMinbase)(
  `element hooks in a bookworm minbase tree${chrootReason}`,
  () => {
    const { root } = useMinbaseTree("stock-a");

    /** Runs a script inside the tree with a clean environment plus `env`. */
    const inChroot = (path: string, env: Record<string, string> = {}) =>
      hookInTree(root, path, env, { name: `hook-${Math.random().toString(36).slice(2)}` });

    const shadowRoot = () =>
      readFileSync(join(root, "etc/shadow"), "utf8")
        .split("\n")
        .find((l) => l.startsWith("root:"))
        ?.split(":")[1];

    it("dynamic-login sets root's password hash, plain or base64, and SSH key from the command line", async () => {
      const login = elementFile("dynamic-login", "static/usr/local/bin/dynamic-login");
      const hash = (await execa("openssl", ["passwd", "-6", "-salt", "dibtest", "secret"])).stdout;
      const cmdline = (text: string) => writeFileSync(join(root, "tmp/cmdline"), `${text}\n`);

      cmdline(`BOOT_IMAGE=/vmlinuz root=LABEL=x rootpwd="${hash}" ro quiet`);
      let r = await inChroot(login, { DYNAMIC_LOGIN_CMDLINE: "/tmp/cmdline" });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(shadowRoot()).toBe(hash);

      const other = (await execa("openssl", ["passwd", "-6", "-salt", "dibtest2", "other"])).stdout;
      cmdline(
        `quiet rootpwd=${Buffer.from(other).toString("base64")} sshkey="ssh-ed25519 AAAAC3Nz dib@test"`,
      );
      r = await inChroot(login, { DYNAMIC_LOGIN_CMDLINE: "/tmp/cmdline" });
      expect(r.exitCode).toBe(0);
      expect(shadowRoot()).toBe(other);
      expect(readFileSync(join(root, "root/.ssh/authorized_keys"), "utf8")).toBe(
        "ssh-ed25519 AAAAC3Nz dib@test\n",
      );
      expect(statSync(join(root, "root/.ssh")).mode & 0o777).toBe(0o700);
      expect(statSync(join(root, "root/.ssh/authorized_keys")).mode & 0o777).toBe(0o600);

      cmdline(`rootpwd="not-a-hash"`);
      r = await inChroot(login, { DYNAMIC_LOGIN_CMDLINE: "/tmp/cmdline" });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("is not a crypt hash");
      expect(shadowRoot()).toBe(other);
    });

    it("dkms builds and installs every registered module for every kernel with headers", async () => {
      for (const dir of [
        "linux-headers-6.1.0-9-amd64",
        "linux-headers-6.1.0-10-amd64",
        "linux-headers-6.1.0-10-common",
      ]) {
        mkdirSync(join(root, "usr/src", dir), { recursive: true });
        writeFileSync(join(root, "usr/src", dir, "Makefile"), "");
      }
      // dkms 3 prints name/version, dkms 2 name, version: one of each.
      script(
        join(root, "usr/sbin/dkms"),
        `echo "dkms $* ARCH=\${ARCH:-unset}" >> /tmp/dkms.log
if [ "$1" = status ]; then
  echo "acme-nic/1.2, 6.1.0-9-amd64, x86_64: installed"
  echo "acme-nic/1.2: added"
  echo "zeta, 0.9, 6.1.0-9-amd64, x86_64: built"
fi`,
      );
      const r = await inChroot(elementFile("dkms", "post-install.d", "97-dkms"), { ARCH: "amd64" });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const calls = readFileSync(join(root, "tmp/dkms.log"), "utf8").trim().split("\n");
      expect(calls.filter((c) => !c.startsWith("dkms status"))).toEqual([
        "dkms build acme-nic/1.2 -k 6.1.0-10-amd64 ARCH=unset",
        "dkms install acme-nic/1.2 -k 6.1.0-10-amd64 ARCH=unset",
        "dkms build acme-nic/1.2 -k 6.1.0-9-amd64 ARCH=unset",
        "dkms install acme-nic/1.2 -k 6.1.0-9-amd64 ARCH=unset",
        "dkms build zeta/0.9 -k 6.1.0-10-amd64 ARCH=unset",
        "dkms install zeta/0.9 -k 6.1.0-10-amd64 ARCH=unset",
        "dkms build zeta/0.9 -k 6.1.0-9-amd64 ARCH=unset",
        "dkms install zeta/0.9 -k 6.1.0-9-amd64 ARCH=unset",
      ]);
      rmSync(join(root, "usr/sbin/dkms"));
      rmSync(join(root, "usr/src"), { recursive: true });
      mkdirSync(join(root, "usr/src"));
    });

    it("simple-init installs glean from the repo checkout with the configured pip options and runs glean-install", async () => {
      mkdirSync(join(root, "tmp/glean.git"));
      // python3 -m venv DIR makes DIR/bin/pip, which records its calls; installing the
      // checkout gives the venv glean's three commands.
      script(
        join(root, "usr/bin/python3"),
        `[ "$1 $2" = "-m venv" ] || exit 2
mkdir -p "$3/bin"
cat > "$3/bin/pip" <<'PIP'
#!/bin/bash
echo "pip $*" >> /tmp/pip.log
if [ "\${*: -1}" = /tmp/glean.git ]; then
  for t in glean glean.sh; do printf '#!/bin/sh\\n' > "/usr/glean/bin/$t"; chmod +x "/usr/glean/bin/$t"; done
  printf '#!/bin/sh\\necho "$*" > /tmp/glean-install.args\\n' > /usr/glean/bin/glean-install
  chmod +x /usr/glean/bin/glean-install
fi
PIP
chmod +x "$3/bin/pip"`,
      );
      script(
        join(root, "usr/local/bin/install-packages"),
        `echo "install-packages $*" >> /tmp/pip.log`,
      );
      const r = await inChroot(
        elementFile("simple-init", "install.d/simple-init-repo-install/40-glean"),
        {
          DIB_SIMPLE_INIT_GLEAN_PIP_ARGS: "--no-index --find-links http://127.0.0.1:9/",
          DIB_SIMPLE_INIT_GLEAN_PIP_PREINSTALL: "pbr",
        },
      );
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(readFileSync(join(root, "tmp/pip.log"), "utf8")).toBe(
        [
          "install-packages git",
          "pip --disable-pip-version-check --no-input install --no-index --find-links http://127.0.0.1:9/ pbr",
          "pip --disable-pip-version-check --no-input install --no-index --find-links http://127.0.0.1:9/ /tmp/glean.git",
          "",
        ].join("\n"),
      );
      for (const tool of ["glean", "glean.sh", "glean-install"]) {
        expect(readlinkSync(join(root, "usr/local/bin", tool))).toBe(`/usr/glean/bin/${tool}`);
      }

      const install = await inChroot(elementFile("simple-init", "install.d/50-simple-init"), {
        DIB_SIMPLE_INIT_NETWORKMANAGER: "1",
        DIB_INIT_SYSTEM: "systemd",
      });
      expect(install.exitCode).toBe(0);
      expect(readFileSync(join(root, "tmp/glean-install.args"), "utf8")).toBe("--use-nm\n");
      expect(readFileSync(join(root, "etc/modules-load.d/simple-init-8021q.conf"), "utf8")).toBe(
        "8021q\n",
      );
      rmSync(join(root, "usr/bin/python3"));
    });

    it("simple-init drops the image's own interface stanzas and keeps loopback and the include", async () => {
      const net = join(root, "etc/network");
      mkdirSync(join(net, "interfaces.d"), { recursive: true });
      writeFileSync(join(net, "interfaces"), "auto eth0\niface eth0 inet dhcp\n");
      for (const f of ["eth0", "ens3", "vlan-keep"])
        writeFileSync(join(net, "interfaces.d", f), "");
      const r = await inChroot(
        elementFile("simple-init", "install.d/60-simple-init-remove-interfaces"),
      );
      expect(r.exitCode).toBe(0);
      expect(readdirSync(join(net, "interfaces.d"))).toEqual(["vlan-keep"]);
      expect(readFileSync(join(net, "interfaces"), "utf8")).toBe(
        "# Written by simple-init: glean configures the other interfaces at boot.\n" +
          "auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n",
      );
    });
  },
);

describe.runIf(isRoot)(`pip-cache's bind of the image cache${rootOnlyReason}`, () => {
  const work = useCheckedDir("pip-cache", { leftovers: ["root/tmp/pip"] });

  it("binds $DIB_IMAGE_CACHE/pip on /tmp/pip until post-root.d, and cleanup.d is safe after", async () => {
    const root = join(work.dir, "root");
    const cache = join(work.dir, "cache");
    mkdirSync(join(root, "tmp"), { recursive: true });
    const env = { TARGET_ROOT: root, TMP_MOUNT_PATH: root, DIB_IMAGE_CACHE: cache };
    expect(
      (await runScript(elementFile("pip-cache", "root.d", "11-pip-cache"), [], env)).exitCode,
    ).toBe(0);
    // Run twice, as a retried phase would: still one mount.
    expect(
      (await runScript(elementFile("pip-cache", "root.d", "11-pip-cache"), [], env)).exitCode,
    ).toBe(0);
    writeFileSync(join(root, "tmp/pip/wheel-cache-entry"), "x");
    expect(existsSync(join(cache, "pip/wheel-cache-entry"))).toBe(true);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => l.split(" ")[4] === join(root, "tmp/pip"));
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).not.toContain("shared:");

    const unmount = await runScript(
      elementFile("pip-cache", "post-root.d", "99-unmount-pip-cache"),
      [],
      env,
    );
    expect(unmount.exitCode).toBe(0);
    expect(existsSync(join(root, "tmp/pip"))).toBe(false);
    expect(existsSync(join(cache, "pip/wheel-cache-entry"))).toBe(true);
    expect(
      (await runScript(elementFile("pip-cache", "cleanup.d", "60-unmount-pip-cache"), [], env))
        .exitCode,
    ).toBe(0);
    const env2 = readFileSync(
      elementFile("pip-cache", "environment.d", "10-pip-cache.bash"),
      "utf8",
    );
    expect(env2).toContain("export PIP_CACHE_DIR=/tmp/pip");
  });
});

const haveSgdisk = await hasCommand("sgdisk");
const growvolsReason = rootOnlyReason || (haveSgdisk ? "" : " (skipped: sgdisk is missing)");

describe.runIf(isRoot && haveSgdisk)(`growvols on a real loop device${growvolsReason}`, () => {
  const work = useCheckedDir("growvols");
  const host = new Host({});
  let ledger: Ledger;
  let disk = "";
  let device = "";
  const GiB = 1024 ** 3;
  const MiB = 1024 ** 2;

  beforeAll(async () => {
    ledger = Ledger.open(work.dir, host);
    const image = join(work.dir, "disk.raw");
    closeSync(openSync(image, "w"));
    truncateSync(image, 3 * GiB);
    device = (await ledger.attachLoop(image)).detail.device;
    disk = device.replace("/dev/", "");
    // An image as block-device-efi-lvm lays it out, in its first 1 GiB: ESP, BIOS boot, LVM.
    await execa("sgdisk", [
      "-n",
      "1:2048:+16M",
      "-t",
      "1:EF00",
      "-n",
      "2:0:+1M",
      "-t",
      "2:EF02",
      "-n",
      "3:0:1G",
      "-t",
      "3:8E00",
      device,
    ]);
  }, 60_000);

  afterAll(async () => {
    await ledger.undo();
  });

  /**
   * Runs growvols with lsblk and vgs describing an LVM group "vg" on the loop device (this
   * host has no device-mapper to activate one) and the LVM and filesystem tools recording
   * their calls; sgdisk and sysfs are real.
   */
  async function growvols(args: string[], vgName = "vg") {
    const bin = join(work.dir, "bin");
    const log = join(work.dir, "calls");
    writeFileSync(log, "");
    const dm = vgName.replace(/-/g, "--");
    const lsblk = [
      `KNAME="${disk}" PKNAME="" NAME="${disk}" LABEL="" TYPE="disk" FSTYPE="" MOUNTPOINT=""`,
      `KNAME="${disk}p1" PKNAME="${disk}" NAME="${disk}p1" LABEL="MKFS_ESP" TYPE="part" FSTYPE="vfat" MOUNTPOINT="/boot/efi"`,
      `KNAME="${disk}p2" PKNAME="${disk}" NAME="${disk}p2" LABEL="" TYPE="part" FSTYPE="" MOUNTPOINT=""`,
      `KNAME="${disk}p3" PKNAME="${disk}" NAME="${disk}p3" LABEL="" TYPE="part" FSTYPE="LVM2_member" MOUNTPOINT=""`,
      `KNAME="dm-0" PKNAME="${disk}p3" NAME="${dm}-lv_root" LABEL="img-rootfs" TYPE="lvm" FSTYPE="xfs" MOUNTPOINT="/"`,
      `KNAME="dm-1" PKNAME="${disk}p3" NAME="${dm}-lv_var--log" LABEL="fs_var_log" TYPE="lvm" FSTYPE="ext4" MOUNTPOINT="/var/log"`,
    ].join("\n");
    script(join(bin, "lsblk"), `cat <<'EOF'\n${lsblk}\nEOF`);
    script(join(bin, "vgs"), `echo "  ${vgName}"`);
    for (const tool of [
      "partprobe",
      "pvcreate",
      "vgextend",
      "lvextend",
      "xfs_growfs",
      "resize2fs",
    ]) {
      script(join(bin, tool), `echo "${tool} $*" >> ${log}`);
    }
    const r = await runScript(elementFile("growvols", "static/usr/local/sbin/growvols"), args, {
      PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
    });
    return { ...r, calls: readFileSync(log, "utf8") };
  }

  async function largestFree(): Promise<[number, number]> {
    const out = (
      await execa("sgdisk", ["--first-aligned-in-largest", "--end-of-largest", device])
    ).stdout
      .trim()
      .split("\n");
    return [Number(out[0]), Number(out[1])];
  }

  it("plans a new partition in the free space and shares it between the volumes, / last", async () => {
    const [first, last] = await largestFree();
    const free = (last - first + 1) * 512;
    const usable = Math.floor((free - 4 * MiB) / (4 * MiB)) * 4 * MiB;
    const r = await growvols(["--noop", "--device", disk, "/var/log=25%", "img-rootfs=100MiB"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const varLog = Math.floor((usable * 25) / 100 / (4 * MiB)) * 4 * MiB;
    const rootBytes = usable - varLog;
    expect(r.stdout.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
      "The following commands would run:",
      `sgdisk --new=4:${first}:${last} --change-name=4:growvols /dev/${disk}`,
      `partprobe /dev/${disk}`,
      `pvcreate /dev/${disk}p4`,
      `vgextend vg /dev/${disk}p4`,
      `lvextend --size +${varLog}B /dev/vg/lv_var-log /dev/${disk}p4`,
      `lvextend --size +${rootBytes}B /dev/vg/lv_root /dev/${disk}p4`,
      "resize2fs /dev/vg/lv_var-log",
      "xfs_growfs /",
    ]);
    expect(r.calls).toBe("");
    expect(usable).toBeGreaterThan(1.9 * GiB);
  });

  it("runs the plan with --yes: the partition is really made in the GPT", async () => {
    const r = await growvols(["--yes", "--device", disk, "--group", "my-vg"], "my-vg");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const printed = (await execa("sgdisk", ["--print", device])).stdout;
    expect(printed).toMatch(/^\s+4\s+\d+\s+\d+\s+.*growvols$/m);
    expect(r.calls.split("\n").map((l) => l.split(" ")[0])).toEqual([
      "partprobe",
      "pvcreate",
      "vgextend",
      "lvextend",
      "xfs_growfs",
      "",
    ]);
    expect(r.calls).toContain(`vgextend my-vg /dev/${disk}p4`);
    expect(r.calls).toMatch(/lvextend --size \+\d+B \/dev\/my-vg\/lv_root /);
  });

  it("does nothing when there is too little space, and exits 2 with --exit-on-no-grow", async () => {
    const r = await growvols(["--yes", "--device", disk]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("nothing to do");
    expect(r.calls).toBe("");
    const strict = await growvols(["--yes", "--device", disk, "--exit-on-no-grow"]);
    expect(strict.exitCode).toBe(2);
  });

  it("refuses bad arguments before changing anything", async () => {
    await execa("sgdisk", ["--delete=4", device]);
    const unit = await growvols(["--noop", "--device", disk, "/=10TB"]);
    expect(unit.exitCode).toBe(1);
    expect(unit.stderr).toContain("is not a whole number with a unit");
    const vol = await growvols(["--noop", "--device", disk, "/srv=10%"]);
    expect(vol.exitCode).toBe(1);
    expect(vol.stderr).toContain("no device has the label or mount point /srv");
    const notLvm = await growvols(["--noop", "--device", disk, "/boot/efi=10%"]);
    expect(notLvm.stderr).toContain("is not an LVM volume");
    const group = await growvols(["--noop", "--device", disk, "--group", "nope"]);
    expect(group.stderr).toContain("could not find the volume group given with --group: nope");
    expect(lstatSync(device).isBlockDevice()).toBe(true);
  });
});
