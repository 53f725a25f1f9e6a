import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { elementFile, runScript, tempDir } from "./element-harness.js";

const work = tempDir("package-installs");
afterAll(() => work.remove());

// The real pkg-map, and an install-packages that records its arguments.
const bin = join(work.dir, "bin");
mkdirSync(bin);
const calls = join(work.dir, "calls");
writeFileSync(
  join(bin, "pkg-map"),
  `#!/bin/sh\nexec python3 ${elementFile("pkg-map", "bin", "pkg-map")} "$@"\n`,
);
writeFileSync(join(bin, "install-packages"), `#!/bin/sh\necho "$*" >> ${calls}\n`);
chmodSync(join(bin, "pkg-map"), 0o755);
chmodSync(join(bin, "install-packages"), 0o755);

const maps = join(work.dir, "maps");
mkdirSync(maps);
writeFileSync(
  join(maps, "debian"),
  JSON.stringify({
    release: { debian: { trixie: { dhcp_client: "dhcpcd-base" } } },
    default: { dhcp_client: "isc-dhcp-client", gone: "" },
  }),
);

const json = join(work.dir, "package-installs.json");
writeFileSync(
  json,
  JSON.stringify({
    "install.d": {
      install: [
        ["linux-image-amd64", "debian-minimal"],
        ["dhcp_client", "debian"],
        ["gone", "debian"],
        ["curl", "cache-url"],
        ["curl", "debian"],
      ],
      uninstall: [["gcc", "some-element"]],
    },
    "pre-install.d": { install: [], uninstall: [] },
  }),
);

const v2 = (args: string[]) => {
  writeFileSync(calls, "");
  return runScript(elementFile("package-installs", "bin", "package-installs-v2"), args, {
    PATH: `${bin}:/usr/bin:/bin`,
    DISTRO_NAME: "debian",
    DIB_RELEASE: "trixie",
    DIB_PKG_MAP_DIR: maps,
  });
};

describe("package-installs-v2", () => {
  it("maps each element's names and calls install-packages once, without duplicates", async () => {
    const r = await v2(["--phase", "install.d", json]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(calls, "utf8")).toBe("linux-image-amd64 dhcpcd-base curl\n");
  });

  it("removes the uninstall list with install-packages -e", async () => {
    const r = await v2(["--phase", "install.d", "--uninstall", json]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(calls, "utf8")).toBe("-e gcc\n");
  });

  it("says there is nothing to do for an empty or absent phase", async () => {
    for (const phase of ["pre-install.d", "post-install.d"]) {
      const r = await v2(["--phase", phase, json]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("Nothing to install");
      expect(readFileSync(calls, "utf8")).toBe("");
    }
  });

  it("prints the command instead of running it with --noop", async () => {
    const r = await v2(["--noop", "--phase", "install.d", json]);
    expect(r.stdout).toBe("install-packages linux-image-amd64 dhcpcd-base curl");
    expect(readFileSync(calls, "utf8")).toBe("");
  });

  it("fails clearly when the squashed file is missing", async () => {
    const r = await v2(["--phase", "install.d", join(work.dir, "absent.json")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("extra-data.d step did not run");
  });
});
