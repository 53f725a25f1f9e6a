import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { elementFile, runScript, tempDir } from "./element-harness.js";

const work = tempDir("hook-tools");
afterAll(() => work.remove());

function script(path: string, body: string): void {
  writeFileSync(path, `#!/bin/bash\nset -eu\n${body}\n`);
  chmodSync(path, 0o755);
}

describe("dib-run-parts (the dib-run-parts element's bin tool)", () => {
  const root = join(work.dir, "run-parts");
  const phase = join(root, "install.d");
  const log = join(root, "log");
  mkdirSync(phase, { recursive: true });
  mkdirSync(join(root, "environment.d"));
  writeFileSync(join(root, "environment.d", "10-first.bash"), "export GREETING=hello\n");
  writeFileSync(join(root, "environment.d", "20-second"), 'export GREETING="$GREETING world"\n');
  for (const name of ["100-c", "10-b", "5-a", "foo", "01-x"]) {
    script(join(phase, name), `echo "${name} $GREETING" >> ${log}`);
  }
  script(join(phase, "20-skipped.sh"), `echo "skipped" >> ${log}`);
  writeFileSync(join(phase, "30-not-executable"), `echo "not executable" >> ${log}`);
  const runParts = elementFile("dib-run-parts", "bin", "dib-run-parts");

  it("runs executable, well-named scripts in numeric then byte order, after the environment", async () => {
    writeFileSync(log, "");
    const r = await runScript(runParts, [phase]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(log, "utf8")).toBe(
      [
        "foo hello world",
        "01-x hello world",
        "5-a hello world",
        "10-b hello world",
        "100-c hello world",
        "",
      ].join("\n"),
    );
    expect(r.stderr).toContain("dib-run-parts Running");
    expect(r.stderr).toContain("PROFILING");
  });

  it("lists what it would run with --list", async () => {
    const r = await runScript(runParts, ["--list", phase]);
    expect(r.stdout.split("\n")).toEqual(
      ["foo", "01-x", "5-a", "10-b", "100-c"].map((n) => `${phase}/${n}`),
    );
  });

  it("stops at the first failing script with its status", async () => {
    const failing = join(root, "failing.d");
    mkdirSync(failing);
    script(join(failing, "10-fails"), "exit 3");
    script(join(failing, "20-never"), `echo never >> ${log}`);
    writeFileSync(log, "");
    const r = await runScript(runParts, [failing]);
    expect(r.exitCode).toBe(3);
    expect(readFileSync(log, "utf8")).toBe("");
  });

  it("rejects a missing directory", async () => {
    const r = await runScript(runParts, [join(root, "absent.d")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("must exist and be a directory");
  });
});

describe("install-types' extra-data.d/99-enable-install-types", () => {
  const hooks = join(work.dir, "install-types");
  const install = join(hooks, "install.d");
  for (const dir of [
    "nova-source-install",
    "nova-package-install",
    "glance-source-install",
    "glance-package-install",
    "my-tool-package-install",
  ]) {
    mkdirSync(join(install, dir), { recursive: true });
    script(join(install, dir, `50-${dir}`), "true");
  }
  const hook = elementFile("install-types", "extra-data.d", "99-enable-install-types");

  it("links the default type's scripts, and the explicitly chosen type per prefix", async () => {
    const r = await runScript(hook, [], {
      TMP_HOOKS_PATH: hooks,
      DIB_DEFAULT_INSTALLTYPE: "source",
      DIB_INSTALLTYPE_glance: "package",
      DIB_INSTALLTYPE_my_tool: "package",
    });
    expect(r.exitCode).toBe(0);
    expect(readlinkSync(join(install, "50-nova-source-install"))).toBe(
      "nova-source-install/50-nova-source-install",
    );
    expect(existsSync(join(install, "50-glance-package-install"))).toBe(true);
    expect(existsSync(join(install, "50-my-tool-package-install"))).toBe(true);
    expect(existsSync(join(install, "50-glance-source-install"))).toBe(false);
    expect(existsSync(join(install, "50-nova-package-install"))).toBe(false);
    expect(realpathSync(join(install, "50-glance-package-install"))).toBe(
      join(install, "glance-package-install", "50-glance-package-install"),
    );
  });
});

describe("dib-init-system's environment.d gate", () => {
  const envFile = elementFile("dib-init-system", "environment.d", "99-dib-init-system.bash");
  const source = (value: string | undefined) =>
    execa("bash", ["-c", `set -eu; source ${envFile}; echo "ok $DIB_INIT_SYSTEM"`], {
      reject: false,
      extendEnv: false,
      env: value === undefined ? {} : { DIB_INIT_SYSTEM: value },
    });

  it("accepts the four init systems DIB knows", async () => {
    for (const system of ["upstart", "systemd", "openrc", "sysv"]) {
      const r = await source(system);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`ok ${system}`);
    }
  });

  it("stops the phase for anything else, or when unset", async () => {
    for (const value of ["runit", undefined]) {
      const r = await source(value);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("DIB_INIT_SYSTEM");
    }
  });
});

describe("debian-minimal's environment", () => {
  const envFile = elementFile("debian-minimal", "environment.d", "10-debian-minimal.bash");
  const vars = [
    "DISTRO_NAME",
    "DIB_RELEASE",
    "DIB_INIT_SYSTEM",
    "EFI_BOOT_DIR",
    "DIB_DISTRIBUTION_MIRROR",
    "DIB_DEBIAN_SECURITY_MIRROR",
    "DIB_APT_SOURCES_CONF",
  ];
  const source = async (env: Record<string, string>) => {
    const r = await execa(
      "bash",
      [
        "-c",
        `set -eu -o pipefail; source ${envFile}; ${vars.map((v) => `printf '%s=%s\\0' ${v} "$${v}"`).join("; ")}`,
      ],
      { reject: false, extendEnv: false, env: { PATH: "/usr/bin:/bin", ...env } },
    );
    expect(r.exitCode).toBe(0);
    return Object.fromEntries(
      r.stdout
        .split("\0")
        .filter((s) => s !== "")
        .map((s) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)]),
    );
  };

  it("defaults to bookworm with systemd and a Debian mirror", async () => {
    const env = await source({});
    expect(env.DISTRO_NAME).toBe("debian");
    expect(env.DIB_RELEASE).toBe("bookworm");
    expect(env.DIB_INIT_SYSTEM).toBe("systemd");
    expect(env.EFI_BOOT_DIR).toBe("EFI/debian");
    expect(env.DIB_DISTRIBUTION_MIRROR).toMatch(/^https?:\/\/\S+\/debian$/);
    expect(env.DIB_DEBIAN_SECURITY_MIRROR).toMatch(/^https?:\/\/\S+\/debian-security$/);
  });

  it("prefers DIB_DISTRIBUTION_MIRROR, then DIB_DEBIAN_DISTRIBUTION_MIRROR", async () => {
    const both = await source({
      DIB_DISTRIBUTION_MIRROR: "http://one.example/debian",
      DIB_DEBIAN_DISTRIBUTION_MIRROR: "http://two.example/debian",
    });
    expect(both.DIB_DISTRIBUTION_MIRROR).toBe("http://one.example/debian");
    const old = await source({ DIB_DEBIAN_DISTRIBUTION_MIRROR: "http://two.example/debian" });
    expect(old.DIB_DISTRIBUTION_MIRROR).toBe("http://two.example/debian");
  });

  it("lists default, updates and security sources for a stable release", async () => {
    const env = await source({
      DIB_RELEASE: "trixie",
      DIB_DISTRIBUTION_MIRROR: "http://m.example/debian",
      DIB_DEBIAN_SECURITY_MIRROR: "http://s.example/debian-security",
      DIB_DEBIAN_COMPONENTS: "main,non-free-firmware",
    });
    expect(env.DIB_APT_SOURCES_CONF).toBe(
      [
        "default:deb http://m.example/debian trixie main non-free-firmware",
        "updates:deb http://m.example/debian trixie-updates main non-free-firmware",
        "security:deb http://s.example/debian-security trixie-security main non-free-firmware",
      ].join("\n"),
    );
  });

  it("lists only the default source for unstable and testing", async () => {
    for (const release of ["unstable", "testing", "sid"]) {
      const env = await source({
        DIB_RELEASE: release,
        DIB_DISTRIBUTION_MIRROR: "http://m.example/debian",
      });
      expect(env.DIB_APT_SOURCES_CONF).toBe(`default:deb http://m.example/debian ${release} main`);
    }
  });
});
