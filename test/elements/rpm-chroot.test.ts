import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason, runScript } from "./element-harness.js";
import { hookInTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;

/**
 * The rpm family's chroot hooks run for real in a Debian minbase tree: the settings hooks on
 * CentOS-style files written into it, the Red Hat-only elements on the Debian tree itself
 * (where they must do nothing), and the tools that need dnf or rpm against recording
 * stand-ins put on the tree's PATH.
 */
describe.runIf(isRoot && haveMinbase)(`rpm-family hooks in a real root tree${reason}`, () => {
  const work = useMinbaseTree("rpm-chroot", { leftovers: ["proc"] });
  const root = work.root;
  const hooks = join(root, "tmp", "in_target.d");
  const log = join(root, "tmp", "calls.log");

  beforeAll(() => {
    mkdirSync(hooks, { recursive: true });
  });

  /** A recording stand-in for `tool` on the tree's PATH (inside-chroot path of the log). */
  function standIn(tool: string, body = "") {
    const path = join(root, "usr/local/bin", tool);
    writeFileSync(
      path,
      `#!/bin/bash\nline=${tool}\nfor a in "$@"; do line+=" $a"; done\necho "$line" >> /tmp/calls.log\n${body}\n`,
    );
    chmodSync(path, 0o755);
    return () => rmSync(path);
  }
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];

  async function inChroot(script: string, env: Record<string, string> = {}) {
    writeFileSync(log, "");
    return hookInTree(root, script, env, { proc: true });
  }
  const file = (path: string) => readFileSync(join(root, path), "utf8");

  it("rpm-distro writes dnf's arch variables for the image, and CentOS's contentdir", async () => {
    mkdirSync(join(root, "etc/dnf"), { recursive: true });
    const r = await inChroot(elementFile("rpm-distro", "pre-install.d", "02-dnf-vars"), {
      ARCH: "arm64",
      DISTRO_NAME: "centos",
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(file("etc/dnf/vars/basearch")).toBe("aarch64\n");
    expect(file("etc/dnf/vars/arch")).toBe("aarch64\n");
    expect(file("etc/dnf/vars/contentdir")).toBe("centos\n");
    // No yum here: /etc/yum is not created.
    expect(existsSync(join(root, "etc/yum/vars"))).toBe(false);
  });

  it("rpm-distro drops requiretty and puts /usr/local/bin on sudo's secure_path", async () => {
    // The minbase tree has no sudo: a CentOS-style sudoers stands in for the package's.
    const had = existsSync(join(root, "etc/sudoers"));
    const sudoers = had ? file("etc/sudoers") : "";
    writeFileSync(
      join(root, "etc/sudoers"),
      "Defaults    requiretty\nDefaults    secure_path = /sbin:/bin:/usr/sbin:/usr/bin\nroot ALL=(ALL) ALL\n",
    );
    try {
      const r = await inChroot(elementFile("rpm-distro", "pre-install.d", "15-sudo-settings"));
      expect(r.exitCode, r.stderr).toBe(0);
      expect(file("etc/sudoers")).toBe(
        "Defaults    secure_path = /usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\nroot ALL=(ALL) ALL\n",
      );
      // Idempotent.
      await inChroot(elementFile("rpm-distro", "pre-install.d", "15-sudo-settings"));
      expect(file("etc/sudoers").match(/usr\/local\/bin/g)).toHaveLength(1);
    } finally {
      if (had) writeFileSync(join(root, "etc/sudoers"), sudoers);
      else rmSync(join(root, "etc/sudoers"));
    }
  });

  it("rpm-distro turns zeroconf off, and yum-minimal writes NETWORKING and ifcfg files only when asked", async () => {
    expect(
      (await inChroot(elementFile("rpm-distro", "post-install.d", "05-no-zeroconf"))).exitCode,
    ).toBe(0);
    const net = elementFile("yum-minimal", "install.d", "10-yum-minimal-network");
    expect((await inChroot(net, { DIB_YUM_MINIMAL_CREATE_INTERFACES: "0" })).exitCode).toBe(0);
    expect(file("etc/sysconfig/network")).toBe("NOZEROCONF=yes\nNETWORKING=yes\n");
    expect(existsSync(join(root, "etc/sysconfig/network-scripts/ifcfg-eth0"))).toBe(false);
    expect((await inChroot(net, { DIB_YUM_MINIMAL_CREATE_INTERFACES: "1" })).exitCode).toBe(0);
    expect(file("etc/sysconfig/network")).toBe("NOZEROCONF=yes\nNETWORKING=yes\n");
    expect(file("etc/sysconfig/network-scripts/ifcfg-eth1")).toContain("BOOTPROTO=dhcp\n");
  });

  it("selinux-permissive, selinux-fixfiles-restore, epel and dracut-regenerate do nothing on Debian", async () => {
    const permissive = await inChroot(
      elementFile("selinux-permissive", "post-install.d", "50-selinux-permissive"),
    );
    expect(permissive.exitCode, permissive.stderr).toBe(0);
    expect(permissive.stdout).toContain("nothing to do");
    const fixfiles = await inChroot(
      elementFile("selinux-fixfiles-restore", "finalise.d", "90-selinux-fixfiles-restore"),
    );
    expect(fixfiles.exitCode, fixfiles.stderr).toBe(0);
    standIn("install-packages");
    const epel = await inChroot(elementFile("epel", "pre-install.d", "05-epel-release"), {
      DISTRO_NAME: "debian",
      DIB_RELEASE: "bookworm",
    });
    expect(epel.exitCode, epel.stderr).toBe(0);
    expect(epel.stdout).toContain("nothing to do");
    writeFileSync(join(hooks, "dracut-modules"), "lvm lvm2\n");
    const dracut = await inChroot(
      elementFile("dracut-regenerate", "finalise.d", "99-dracut-regenerate"),
    );
    expect(dracut.exitCode, dracut.stderr).toBe(0);
    expect(dracut.stdout).toContain("no dracut");
    expect(calls()).toEqual([]);
  });

  it("selinux-permissive rewrites an existing SELinux config", async () => {
    mkdirSync(join(root, "etc/selinux"), { recursive: true });
    writeFileSync(join(root, "etc/selinux/config"), "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
    try {
      const r = await inChroot(
        elementFile("selinux-permissive", "post-install.d", "50-selinux-permissive"),
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(file("etc/selinux/config")).toBe("SELINUX=permissive\nSELINUXTYPE=targeted\n");
    } finally {
      rmSync(join(root, "etc/selinux"), { recursive: true });
    }
  });

  it("epel installs the EPEL site's release package on CentOS and epel-release on Rocky", async () => {
    const centos = await inChroot(elementFile("epel", "pre-install.d", "05-epel-release"), {
      DISTRO_NAME: "centos",
      DIB_RELEASE: "9-stream",
    });
    expect(centos.exitCode, centos.stderr).toBe(0);
    expect(calls()).toEqual([
      "install-packages https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm",
    ]);
    const rocky = await inChroot(elementFile("epel", "pre-install.d", "05-epel-release"), {
      DISTRO_NAME: "rocky",
      DIB_RELEASE: "9",
    });
    expect(rocky.exitCode, rocky.stderr).toBe(0);
    expect(calls()).toEqual(["install-packages epel-release"]);
  });

  it("dracut-regenerate installs the modules' packages and rebuilds each kernel's initramfs", async () => {
    const removeDracut = standIn("dracut");
    mkdirSync(join(root, "lib/modules/6.1.0-test"), { recursive: true });
    try {
      const r = await inChroot(
        elementFile("dracut-regenerate", "finalise.d", "99-dracut-regenerate"),
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls()).toEqual([
        "install-packages lvm2",
        "dracut --force --add lvm --kver 6.1.0-test",
      ]);
    } finally {
      removeDracut();
      rmSync(join(root, "lib/modules/6.1.0-test"), { recursive: true });
    }
  });

  it("dracut-regenerate's list comes from DIB_DRACUT_ENABLED_MODULES, malformed entries refused", async () => {
    const list = elementFile("dracut-regenerate", "extra-data.d", "50-dracut-modules-list");
    const ok = await runScript(list, [], {
      TMP_HOOKS_PATH: hooks,
      DIB_DRACUT_ENABLED_MODULES: "- name: lvm\n  packages:\n  - lvm2\n- name: crypt\n",
    });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(readFileSync(join(hooks, "dracut-modules"), "utf8")).toBe("lvm lvm2\ncrypt\n");
    const bad = await runScript(list, [], {
      TMP_HOOKS_PATH: hooks,
      DIB_DRACUT_ENABLED_MODULES: "- name: 'lvm; rm -rf /'\n",
    });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain("each entry needs a name");
  });

  it("redhat-common's map-packages runs in the tree's own bash", async () => {
    writeFileSync(log, "");
    writeFileSync(
      join(root, "tmp", "map-packages"),
      readFileSync(elementFile("redhat-common", "bin", "map-packages")),
    );
    chmodSync(join(root, "tmp", "map-packages"), 0o755);
    const r = await execa("chroot", [
      root,
      "/tmp/map-packages",
      "open-iscsi",
      "vim",
      "build-essential",
    ]);
    expect(r.stdout).toBe("iscsi-initiator-utils\nvim\ngcc gcc-c++ make");
  });

  it("yum-minimal registers the bootstrap's packages again in the image's own rpm format (CentOS 7, 8)", async () => {
    const dbpath = "/var/lib/rpm-test";
    const removeRpm = standIn(
      "rpm",
      `if [ "$1" = --eval ]; then echo ${dbpath}; fi\nif [ "$1" = -q ]; then exit 0; fi`,
    );
    mkdirSync(join(root, "var/tmp/yum-minimal-rpms"), { recursive: true });
    mkdirSync(join(root, dbpath.slice(1)), { recursive: true });
    writeFileSync(join(root, dbpath.slice(1), "rpmdb.sqlite"), "host's");
    for (const p of ["bash-4.2-1.x86_64.rpm", "yum-3.4-1.noarch.rpm"]) {
      writeFileSync(join(root, "var/tmp/yum-minimal-rpms", p), "");
    }
    try {
      const script = elementFile("yum-minimal", "pre-install.d", "00-yum-minimal-rpmdb");
      const r = await inChroot(script);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls()).toEqual([
        "rpm --eval %_dbpath",
        "rpm --initdb",
        "rpm --install --justdb --nodeps --noscripts --notriggers --replacepkgs --replacefiles /var/tmp/yum-minimal-rpms/bash-4.2-1.x86_64.rpm /var/tmp/yum-minimal-rpms/yum-3.4-1.noarch.rpm",
        "rpm -q --quiet rpm",
      ]);
      // The host's sqlite files are gone, and so are the package files.
      expect(existsSync(join(root, dbpath.slice(1), "rpmdb.sqlite"))).toBe(false);
      expect(existsSync(join(root, "var/tmp/yum-minimal-rpms"))).toBe(false);
      // Release 9 and later: the database is rebuilt in place.
      const again = await inChroot(script);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(calls()).toEqual(["rpm --eval %_dbpath", "rpm --rebuilddb", "rpm -q --quiet rpm"]);
    } finally {
      removeRpm();
      rmSync(join(root, dbpath.slice(1)), { recursive: true, force: true });
    }
  });
  it("bootloader on the Red Hat family: /boot/grub2, BLS entries get the image's command line, shim on the removable path", async () => {
    const removers = [
      standIn("install-packages"),
      standIn("grub2-install"),
      standIn("grub2-mkimage"),
      standIn("grub2-mkconfig", 'mkdir -p "$(dirname "$2")" && echo "# grub.cfg" > "$2"'),
      standIn(
        "grub2-probe",
        'case "$1" in --target=fs_uuid) echo 0a1b-2c3d ;; --target=fs) echo ext2 ;; esac',
      ),
      standIn("grub2-mkrelpath", "echo /boot/grub2"),
    ];
    const made = ["boot/loader", "boot/efi", "boot/grub2", "etc/kernel", "tmp/disk"];
    mkdirSync(join(root, "boot/loader/entries"), { recursive: true });
    writeFileSync(
      join(root, "boot/loader/entries/abc-5.14.0-1.el9.x86_64.conf"),
      "title CentOS Stream (5.14.0-1.el9.x86_64) 9\nversion 5.14.0-1.el9.x86_64\nlinux /vmlinuz-5.14.0-1.el9.x86_64\noptions root=UUID=build-host ro rhgb quiet\ngrub_users $grub_users\n",
    );
    mkdirSync(join(root, "boot/efi/EFI/centos"), { recursive: true });
    writeFileSync(join(root, "boot/efi/EFI/centos/shimx64.efi"), "signed shim");
    writeFileSync(join(root, "boot/efi/EFI/centos/grubx64.efi"), "signed grub");
    const hadDefault = existsSync(join(root, "etc/default/grub"));
    // A block device node for the disk: grub2-install (a stand-in) only receives its path.
    await execa("mknod", [join(root, "tmp/disk"), "b", "7", "250"]);
    try {
      const r = await inChroot(elementFile("bootloader", "finalise.d", "50-bootloader"), {
        ARCH: "amd64",
        DIB_BLOCK_DEVICE: "efi",
        IMAGE_BLOCK_DEVICE: "/tmp/disk",
        EFI_BOOT_DIR: "EFI/centos",
        DIB_ROOT_LABEL: "cloudimg-rootfs",
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const options =
        "root=LABEL=cloudimg-rootfs ro console=tty0 console=ttyS0,115200 no_timer_check nofb nomodeset gfxpayload=text";
      expect(file("etc/kernel/cmdline")).toBe(`${options}\n`);
      expect(file("boot/loader/entries/abc-5.14.0-1.el9.x86_64.conf")).toBe(
        `title CentOS Stream (5.14.0-1.el9.x86_64) 9\nversion 5.14.0-1.el9.x86_64\nlinux /vmlinuz-5.14.0-1.el9.x86_64\ngrub_users $grub_users\noptions ${options}\n`,
      );
      expect(file("etc/default/grub")).toContain('GRUB_ENABLE_BLSCFG="true"\n');
      expect(file("boot/grub2/grub.cfg")).toBe("# grub.cfg\n");
      expect(file("boot/efi/EFI/BOOT/BOOTX64.EFI")).toBe("signed shim");
      expect(file("boot/efi/EFI/BOOT/grubx64.efi")).toBe("signed grub");
      expect(file("boot/efi/EFI/centos/grub.cfg")).toBe(
        "search.fs_uuid 0a1b-2c3d root\nset prefix=($root)/boot/grub2\nconfigfile $prefix/grub.cfg\n",
      );
      expect(calls()).toEqual([
        "install-packages -m bootloader grub_efi_amd64 grub_bios_modules",
        "grub2-mkconfig -o /boot/grub2/grub.cfg",
        "grub2-install --target=i386-pc --modules=part_msdos part_gpt lvm biosdisk --force /tmp/disk",
        "grub2-probe --target=fs_uuid /boot/grub2",
        "grub2-mkrelpath /boot/grub2",
      ]);
    } finally {
      for (const remove of removers) remove();
      for (const path of made) rmSync(join(root, path), { recursive: true, force: true });
      if (!hadDefault) rmSync(join(root, "etc/default/grub"), { force: true });
    }
  });

  it("dhcp-all-interfaces picks the Red Hat family's DHCP client for NetworkManager", async () => {
    const removeNm = standIn("NetworkManager");
    const conf = join(root, "etc/NetworkManager/conf.d/00-dib-dhcp-all-interfaces.conf");
    const script = elementFile("dhcp-all-interfaces", "install.d", "50-dhcp-all-interfaces");
    try {
      for (const [distro, release, client] of [
        ["centos", "8-stream", "dhclient"],
        ["centos", "9-stream", "internal"],
        ["almalinux", "10", "dhcpcd"],
        ["debian", "bookworm", "internal"],
      ]) {
        const r = await inChroot(script, {
          DISTRO_NAME: distro as string,
          DIB_RELEASE: release as string,
        });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(readFileSync(conf, "utf8")).toContain(`dhcp=${client}\n`);
      }
    } finally {
      removeNm();
      rmSync(join(root, "etc/NetworkManager"), { recursive: true, force: true });
    }
  });
  it("yum keeps downloaded packages during the build only", async () => {
    mkdirSync(join(root, "etc/dnf"), { recursive: true });
    writeFileSync(join(root, "etc/dnf/dnf.conf"), "[main]\ngpgcheck=1\n");
    try {
      const keep = elementFile("yum", "pre-install.d", "01-yum-keepcache");
      expect((await inChroot(keep, { YUM: "dnf" })).exitCode).toBe(0);
      expect((await inChroot(keep, { YUM: "dnf" })).exitCode).toBe(0);
      expect(file("etc/dnf/dnf.conf")).toBe("[main]\nkeepcache=1 # dib-build\ngpgcheck=1\n");
      const restore = elementFile("yum", "finalise.d", "99-yum-keepcache-restore");
      expect((await inChroot(restore)).exitCode).toBe(0);
      expect(file("etc/dnf/dnf.conf")).toBe("[main]\ngpgcheck=1\n");
    } finally {
      rmSync(join(root, "etc/dnf"), { recursive: true, force: true });
    }
  });
});
