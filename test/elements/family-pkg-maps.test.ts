import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { elementFile, runScript } from "./element-harness.js";

const pkgMap = elementFile("pkg-map", "bin", "pkg-map");

/** The generic names an element's package-installs.yaml lists (its top-level keys). */
function packageNames(element: string): string[] {
  return readFileSync(elementFile(element, "package-installs.yaml"), "utf8")
    .split("\n")
    .map((l) => /^"?([A-Za-z0-9_.+-]+)"?:/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** What the real pkg-map tool prints for `names` on `distro` (one package per line, "" dropped). */
async function mapped(element: string, distro: string, release: string, names: string[]) {
  const r = await runScript(pkgMap, [
    "--pkg-map",
    elementFile(element, "pkg-map"),
    "--distro",
    distro,
    "--release",
    release,
    ...names,
  ]);
  return r;
}

/**
 * The family-specific parts of the ported elements (what package-installs installs on each
 * distribution), run through the real pkg-map tool for distributions this host cannot build:
 * every generic name must map, so package-installs never passes a generic name to apt or dnf.
 * The Debian mappings are also installed for real by the e2e build (stock-elements-b).
 */
describe("the ported elements' pkg-maps", () => {
  const cases: [string, string][] = [
    ["debian", "bookworm"],
    ["ubuntu", "noble"],
    ["centos", "9-stream"],
    ["rocky", "9"],
    ["fedora", "40"],
  ];
  for (const element of ["posix", "autoupdates", "fail2ban", "cloud-init-growpart"]) {
    for (const [distro, release] of cases) {
      it(`${element}: every package name maps on ${distro} ${release}`, async () => {
        // fail2ban has the same name everywhere: package-installs passes unmapped names through.
        const names = packageNames(element).filter((n) => n !== "fail2ban");
        expect(names.length).toBeGreaterThan(0);
        const r = await mapped(element, distro, release, names);
        expect(r.stderr).toBe("");
        expect(r.exitCode).toBe(0);
      });
    }
  }

  it("posix: Debian gets the packages that ship the commands on bookworm, Red Hat its own names", async () => {
    const debian = await mapped("posix", "debian", "bookworm", [
      "cal",
      "write",
      "vi",
      "yacc",
      "crontab",
      "cd",
    ]);
    expect(debian.stdout.split("\n").filter((l) => l !== "")).toEqual([
      "ncal",
      "bsdextrautils",
      "vim-tiny",
      "byacc",
      "cron",
    ]);
    const centos = await mapped("posix", "centos", "9-stream", [
      "cal",
      "write",
      "vi",
      "crontab",
      "ps",
    ]);
    expect(centos.stdout.split("\n").filter((l) => l !== "")).toEqual([
      "util-linux",
      "util-linux",
      "vim-minimal",
      "cronie",
      "procps-ng",
    ]);
  });

  it("autoupdates and fail2ban: unattended-upgrades or dnf-automatic, and the journal reader", async () => {
    expect((await mapped("autoupdates", "debian", "bookworm", ["autoupdates"])).stdout.trim()).toBe(
      "unattended-upgrades",
    );
    expect((await mapped("autoupdates", "rocky", "9", ["autoupdates"])).stdout.trim()).toBe(
      "dnf-automatic",
    );
    expect((await mapped("fail2ban", "ubuntu", "noble", ["fail2ban_journal"])).stdout.trim()).toBe(
      "python3-systemd",
    );
    expect(
      (await mapped("fail2ban", "centos", "9-stream", ["fail2ban_journal"])).stdout.trim(),
    ).toBe("fail2ban-systemd");
  });
});
