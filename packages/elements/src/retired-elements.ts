/**
 * Elements diskimage-builder removed, and what took their place. Element trees written for
 * an older DIB still name them (often in element-deps); resolution looks a name up here
 * only when no element of that name exists, so a tree that ships its own copy still wins.
 * The one table: resolution, `dib-cli elements show` and the docs read it.
 */
export interface RetiredElement {
  /** Why it is gone, as a clause: "removed in DIB 3.0: …". */
  why: string;
  /** What to use instead: element names, a variable, or "drop it". */
  instead: string;
}

const DEPLOY_RAMDISKS: RetiredElement = {
  why: "the legacy deploy ramdisk elements were deprecated in 2023 and removed: Ironic no longer deploys this way",
  instead:
    "build a deploy ramdisk with ironic-python-agent-builder (its ironic-python-agent-ramdisk element), or drop it",
};

const RETIRED: Readonly<Record<string, RetiredElement>> = {
  "dib-python": {
    why: "removed in DIB 3.0, when Python 2 support ended: hooks call python3 directly",
    instead:
      "drop it from element-deps; use python3 in chroot hooks and $DIB_PYTHON_EXEC outside the chroot",
  },
  "pip-and-virtualenv": {
    why: "removed in DIB 3.0: pip and virtualenv come from the distribution's packages",
    instead:
      "install python3-pip / python3-virtualenv with package-installs, or use ensure-venv for a virtualenv",
  },
  "fedora-minimal": {
    why: "removed from DIB: Fedora images are built from Fedora's own cloud or container images",
    instead: "use fedora (cloud image) or fedora-container",
  },
  centos7: {
    why: "removed from DIB (it became centos with DIB_RELEASE=7, and CentOS 7 support ended in 2024)",
    instead: "use centos (9-stream by default) or centos-minimal, with DIB_RELEASE",
  },
  rhel7: {
    why: "removed from DIB (it became rhel with DIB_RELEASE=7, and RHEL 7 support ended in 2024)",
    instead: "use rhel with DIB_RELEASE=8 or 9",
  },
  "deploy-baremetal": DEPLOY_RAMDISKS,
  "deploy-kexec": DEPLOY_RAMDISKS,
  "deploy-targetcli": DEPLOY_RAMDISKS,
  "deploy-tgtadm": DEPLOY_RAMDISKS,
  "deploy-ironic": DEPLOY_RAMDISKS,
  "ironic-agent": {
    why: "moved out of DIB: the Ironic agent ramdisk is built by ironic-python-agent-builder",
    instead: "use ironic-python-agent-builder's ironic-python-agent-ramdisk element",
  },
  "dracut-network": {
    why: "removed in DIB 2.6: it had not worked for a long time (wrong paths)",
    instead:
      "use dracut-regenerate to rebuild the image's initramfs with the dracut modules you need",
  },
  "ubuntu-systemd-container": {
    why: "removed from DIB: every supported Ubuntu release boots with systemd",
    instead: "use ubuntu or ubuntu-minimal (with -t docker or tar for a container)",
  },
  "modprobe-blacklist": {
    why: "replaced in DIB by the modprobe element",
    instead: "use modprobe and set DIB_MODPROBE_BLACKLIST to the modules to blacklist",
  },
  "debian-systemd": {
    why: "removed from DIB: systemd is Debian's default init, so every Debian image has it",
    instead: "use debian or debian-minimal",
  },
  "debian-upstart": {
    why: "removed from DIB: Debian no longer ships upstart",
    instead:
      "use debian or debian-minimal; another init package can be chosen with DIB_DEBIAN_ALT_INIT_PACKAGE",
  },
  "architecture-emulation-binaries": {
    why: "removed from DIB: cross-architecture builds use the host's qemu-user-static binfmt handlers",
    instead: "install qemu-user-static (and binfmt-support) on the build host, and drop it",
  },
};

/** Names matched by prefix when no exact entry exists (deploy-*). */
const RETIRED_PREFIXES: readonly [string, RetiredElement][] = [["deploy-", DEPLOY_RAMDISKS]];

/** Why DIB removed `name` and what replaced it, or undefined for a name DIB never retired. */
export function retiredElement(name: string): RetiredElement | undefined {
  return (
    RETIRED[name] ?? RETIRED_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1] ?? undefined
  );
}

/** Every retired name in the table (prefix rules as `deploy-*`), sorted. */
export function retiredElementNames(): string[] {
  return [...Object.keys(RETIRED), ...RETIRED_PREFIXES.map(([p]) => `${p}*`)].sort();
}
