import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, rootOnlyReason } from "@dib/test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { elementFile, haveMinbase, minbaseSkipReason, runScript } from "./element-harness.js";
import { hookInTree, useMinbaseTree } from "./minbase-tree.js";

const reason = rootOnlyReason || minbaseSkipReason;

/**
 * The branches of autoupdates' and fail2ban's post-install hooks that the bookworm e2e build
 * (stock-elements-b) cannot reach: the Red Hat family, openrc, a Debian image whose package
 * did not write 20auto-upgrades, and a fail2ban configuration that does not pass its test.
 * The real hooks run in a bookworm tree with recording stand-ins for systemctl, rc-update
 * and fail2ban-client (the tree has no systemd or fail2ban).
 */
describe.runIf(isRoot && haveMinbase)(
  `autoupdates and fail2ban hooks, every branch${reason}`,
  () => {
    const work = useMinbaseTree("svc-plan");
    const root = work.root;
    const calls = join(root, "tmp/calls");

    beforeAll(() => {
      for (const tool of ["systemctl", "rc-update", "fail2ban-client"]) {
        // Records its arguments; fail2ban-client fails when /tmp/f2b-fails exists.
        writeFileSync(
          join(root, "usr/local/bin", tool),
          `#!/bin/sh\necho "${tool} $*" >>/tmp/calls\n` +
            (tool === "fail2ban-client"
              ? 'if [ -e /tmp/f2b-fails ]; then echo "ERROR  Have not found any log file for sshd jail"; exit 255; fi\necho OK\n'
              : ""),
          { mode: 0o755 },
        );
      }
    });

    beforeEach(() => {
      rmSync(calls, { force: true });
      rmSync(join(root, "tmp/f2b-fails"), { force: true });
    });

    const inChroot = (script: string, env: Record<string, string>) =>
      hookInTree(root, script, env, { bash: true });
    const recorded = () => (existsSync(calls) ? readFileSync(calls, "utf8") : "");

    const autoupdates = elementFile("autoupdates", "post-install.d", "82-enable-autoupdate");
    const fail2ban = elementFile("fail2ban", "post-install.d", "80-enable-fail2ban-service");

    it("autoupdates on Debian writes 20auto-upgrades when the package did not, and enables the units", async () => {
      const periodic = join(root, "etc/apt/apt.conf.d/20auto-upgrades");
      rmSync(periodic, { force: true });
      const r = await inChroot(autoupdates, { DIB_INIT_SYSTEM: "systemd", DISTRO_NAME: "debian" });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(readFileSync(periodic, "utf8")).toMatch(/^APT::Periodic::Unattended-Upgrade "1";$/m);
      expect(recorded()).toBe(
        "systemctl enable unattended-upgrades.service apt-daily.timer apt-daily-upgrade.timer\n",
      );
      // A file the package (or the user) wrote is kept.
      writeFileSync(periodic, 'APT::Periodic::Unattended-Upgrade "0";\n');
      expect(
        (await inChroot(autoupdates, { DIB_INIT_SYSTEM: "systemd", DISTRO_NAME: "ubuntu" }))
          .exitCode,
      ).toBe(0);
      expect(readFileSync(periodic, "utf8")).toBe('APT::Periodic::Unattended-Upgrade "0";\n');
    });

    it("autoupdates on the Red Hat family enables dnf-automatic.timer; elsewhere it fails", async () => {
      const r = await inChroot(autoupdates, { DIB_INIT_SYSTEM: "systemd", DISTRO_NAME: "rocky" });
      expect(r.exitCode).toBe(0);
      expect(recorded()).toBe("systemctl enable dnf-automatic.timer\n");
      const gentoo = await inChroot(autoupdates, {
        DIB_INIT_SYSTEM: "systemd",
        DISTRO_NAME: "gentoo",
      });
      expect(gentoo.exitCode).toBe(1);
      expect(gentoo.stderr).toContain("DISTRO_NAME=gentoo is not supported");
      const openrc = await inChroot(autoupdates, {
        DIB_INIT_SYSTEM: "openrc",
        DISTRO_NAME: "debian",
      });
      expect(openrc.exitCode).toBe(1);
    });

    it("fail2ban enables the service (systemd or openrc) and tests the configuration", async () => {
      const systemd = await inChroot(fail2ban, { DIB_INIT_SYSTEM: "systemd" });
      expect(systemd.exitCode).toBe(0);
      expect(recorded()).toBe("systemctl enable fail2ban.service\nfail2ban-client --test\n");
      rmSync(calls);
      const openrc = await inChroot(fail2ban, { DIB_INIT_SYSTEM: "openrc" });
      expect(openrc.exitCode).toBe(0);
      expect(recorded()).toBe("rc-update add fail2ban default\nfail2ban-client --test\n");
    });

    it("fail2ban fails the build, with fail2ban's reason and a hint, when the configuration fails its test", async () => {
      writeFileSync(join(root, "tmp/f2b-fails"), "");
      const r = await inChroot(fail2ban, { DIB_INIT_SYSTEM: "systemd" });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("Have not found any log file for sshd jail");
      expect(r.stderr).toContain("backend = systemd");
      const skipped = await inChroot(fail2ban, {
        DIB_INIT_SYSTEM: "systemd",
        DIB_FAIL2BAN_CHECK: "0",
      });
      expect(skipped.exitCode).toBe(0);
    });

    it("the root.d hooks put the host's files in place before the packages, and refuse both update files", async () => {
      const host = join(work.dir, "host");
      mkdirSync(host, { recursive: true });
      writeFileSync(join(host, "jail.local"), "[DEFAULT]\nbackend = systemd\n");
      writeFileSync(join(host, "automatic.conf"), "[commands]\napply_updates = yes\n");
      const jail = await runScript(
        elementFile("fail2ban", "root.d", "60-copy-fail2ban-config"),
        [],
        {
          TARGET_ROOT: root,
          DIB_FAIL2BAN_CONF: join(host, "jail.local"),
        },
      );
      expect(jail.exitCode).toBe(0);
      expect(readFileSync(join(root, "etc/fail2ban/jail.local"), "utf8")).toContain(
        "backend = systemd",
      );
      const dnf = await runScript(
        elementFile("autoupdates", "root.d", "61-create-update-config"),
        [],
        {
          TARGET_ROOT: root,
          DIB_YUM_UPDATES_CONF: join(host, "automatic.conf"),
        },
      );
      expect(dnf.exitCode).toBe(0);
      expect(readFileSync(join(root, "etc/dnf/automatic.conf"), "utf8")).toContain(
        "apply_updates = yes",
      );
      const both = await runScript(
        elementFile("autoupdates", "root.d", "61-create-update-config"),
        [],
        {
          TARGET_ROOT: root,
          DIB_YUM_UPDATES_CONF: join(host, "automatic.conf"),
          DIB_DEB_UPDATES_CONF: join(host, "automatic.conf"),
        },
      );
      expect(both.exitCode).toBe(1);
      expect(both.stderr).toContain("both DIB_DEB_UPDATES_CONF and DIB_YUM_UPDATES_CONF are set");
    });
  },
);
