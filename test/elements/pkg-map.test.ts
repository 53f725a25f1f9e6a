import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { elementFile, runScript, tempDir } from "./element-harness.js";

const pkgMap = elementFile("pkg-map", "bin", "pkg-map");
const work = tempDir("pkg-map");
afterAll(() => work.remove());

const mapFile = join(work.dir, "demo");
writeFileSync(
  mapFile,
  JSON.stringify({
    default: { dhcp_client: "isc-dhcp-client", editor: "vim-tiny", iscsi: "open-iscsi" },
    family: { redhat: { dhcp_client: "dhcp-client", editor: "vim-minimal" } },
    distro: { ubuntu: { editor: "nano" } },
    release: {
      debian: { trixie: { dhcp_client: "dhcpcd-base" } },
      centos: { "9": { iscsi: "" } },
    },
    "multi-test": {},
  }),
);
writeFileSync(join(work.dir, "pair"), JSON.stringify({ default: { tools: "less  procps" } }));

const map = (args: string[], env: Record<string, string> = {}) =>
  runScript(pkgMap, args, { DIB_PKG_MAP_DIR: work.dir, ...env });

describe("pkg-map", () => {
  it("uses the default mapping when nothing more specific exists", async () => {
    const r = await map([
      "--pkg-map",
      mapFile,
      "--distro",
      "debian",
      "--release",
      "bookworm",
      "editor",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("vim-tiny");
  });

  it("prefers release over distro over family over default", async () => {
    const trixie = await map([
      "--element",
      "demo",
      "--distro",
      "debian",
      "--release",
      "trixie",
      "dhcp_client",
    ]);
    expect(trixie.stdout).toBe("dhcpcd-base");
    const fedora = await map(["--element", "demo", "--distro", "fedora", "dhcp_client", "editor"]);
    expect(fedora.stdout).toBe("dhcp-client\nvim-minimal");
    const ubuntu = await map(["--element", "demo", "--distro", "ubuntu", "editor"]);
    expect(ubuntu.stdout).toBe("nano");
  });

  it("reads the distribution and release from DISTRO_NAME and DIB_RELEASE", async () => {
    const r = await map(["--element", "demo", "dhcp_client"], {
      DISTRO_NAME: "debian",
      DIB_RELEASE: "trixie",
    });
    expect(r.stdout).toBe("dhcpcd-base");
  });

  it("drops a package whose mapping is empty, and matches N-stream releases to N", async () => {
    const r = await map([
      "--element",
      "demo",
      "--distro",
      "centos",
      "--release",
      "9-stream",
      "iscsi",
      "editor",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("vim-minimal");
  });

  it("prints one line per package of a multi-package value, each with the prefix", async () => {
    const r = await map(["--element", "pair", "--distro", "debian", "--prefix", "-", "tools"]);
    expect(r.stdout).toBe("-less\n-procps");
  });

  it("fails on an unmapped name, naming the element, unless --missing-ok", async () => {
    const strict = await map(["--element", "demo", "--distro", "debian", "curl"]);
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toContain("demo has no valid mapping for package curl");
    const lenient = await map(["--element", "demo", "--distro", "debian", "--missing-ok", "curl"]);
    expect(lenient.exitCode).toBe(0);
    expect(lenient.stdout).toBe("curl");
  });

  it("exits 2 for a missing map file, or passes the names through with --missing-ok", async () => {
    const strict = await map(["--element", "nothing", "--distro", "debian", "curl"]);
    expect(strict.exitCode).toBe(2);
    const lenient = await map([
      "--element",
      "nothing",
      "--distro",
      "debian",
      "--missing-ok",
      "--prefix",
      "-",
      "curl",
    ]);
    expect(lenient.stdout).toBe("-curl");
  });

  it("refuses to guess the distribution", async () => {
    const r = await map(["--element", "demo", "curl"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("DISTRO_NAME");
  });
});
