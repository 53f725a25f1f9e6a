import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host } from "@dib/host";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { restoreResolvConf, useHostResolvConf } from "./resolv-conf.js";

let dir: string;
let root: string;
let hostConf: string;
const host = new Host();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "phase-runner-resolv-"));
  root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  hostConf = join(dir, "host-resolv.conf");
  writeFileSync(hostConf, "nameserver 192.0.2.53\n");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const read = (p: string) => readFileSync(join(root, p), "utf8");
const exists = (p: string) => lstatSync(join(root, p), { throwIfNoEntry: false }) !== undefined;

describe("useHostResolvConf / restoreResolvConf", () => {
  it("swaps in the host's resolver for the build and puts the image's back afterwards", async () => {
    writeFileSync(join(root, "etc/resolv.conf"), "nameserver 203.0.113.1\n");
    useHostResolvConf(root, { hostResolvConf: hostConf });
    expect(read("etc/resolv.conf")).toBe("nameserver 192.0.2.53\n");
    expect(read("etc/resolv.conf.ORIG")).toBe("nameserver 203.0.113.1\n");
    expect(await restoreResolvConf(root, { host })).toBe("restored");
    expect(read("etc/resolv.conf")).toBe("nameserver 203.0.113.1\n");
    expect(exists("etc/resolv.conf.ORIG")).toBe(false);
  });

  it("moves a symlink (even a dangling one) aside without following it", async () => {
    symlinkSync("/run/systemd/resolve/stub-resolv.conf", join(root, "etc/resolv.conf"));
    useHostResolvConf(root, { hostResolvConf: hostConf });
    expect(readlinkSync(join(root, "etc/resolv.conf.ORIG"))).toBe(
      "/run/systemd/resolve/stub-resolv.conf",
    );
    expect(lstatSync(join(root, "etc/resolv.conf")).isFile()).toBe(true);
    expect(await restoreResolvConf(root, { host })).toBe("restored");
    expect(readlinkSync(join(root, "etc/resolv.conf"))).toBe(
      "/run/systemd/resolve/stub-resolv.conf",
    );
  });

  it("falls back to 8.8.8.8 when the host has no resolv.conf, and removes ours when the image had none", async () => {
    useHostResolvConf(root, { hostResolvConf: join(dir, "missing") });
    expect(read("etc/resolv.conf")).toBe("nameserver 8.8.8.8\n");
    expect(exists("etc/resolv.conf.ORIG")).toBe(false);
    expect(await restoreResolvConf(root, { host })).toBe("removed");
    expect(exists("etc/resolv.conf")).toBe(false);
  });

  it("keeps a resolv.conf an element made final with a symlink, and drops .ORIG", async () => {
    writeFileSync(join(root, "etc/resolv.conf"), "nameserver 203.0.113.1\n");
    useHostResolvConf(root, { hostResolvConf: hostConf });
    rmSync(join(root, "etc/resolv.conf"));
    symlinkSync("../run/resolvconf/resolv.conf", join(root, "etc/resolv.conf"));
    expect(await restoreResolvConf(root, { host })).toBe("kept-final");
    expect(readlinkSync(join(root, "etc/resolv.conf"))).toBe("../run/resolvconf/resolv.conf");
    expect(exists("etc/resolv.conf.ORIG")).toBe(false);
  });

  it("honours final content an element wrote into resolv.conf.ORIG", async () => {
    useHostResolvConf(root, { hostResolvConf: hostConf });
    writeFileSync(join(root, "etc/resolv.conf.ORIG"), "nameserver 198.51.100.7\n");
    expect(await restoreResolvConf(root, { host })).toBe("restored");
    expect(read("etc/resolv.conf")).toBe("nameserver 198.51.100.7\n");
  });

  it("works inside the tree when the image's /etc is a link to a host directory", async () => {
    const hostEtc = join(dir, "host-etc");
    mkdirSync(hostEtc);
    writeFileSync(join(hostEtc, "resolv.conf"), "host's own\n");
    rmSync(join(root, "etc"), { recursive: true });
    symlinkSync(hostEtc, join(root, "etc")); // absolute: the host's directory
    useHostResolvConf(root, { hostResolvConf: hostConf });
    expect(await restoreResolvConf(root, { host })).toBe("removed");
    expect(readFileSync(join(hostEtc, "resolv.conf"), "utf8")).toBe("host's own\n");
    expect(lstatSync(join(hostEtc, "resolv.conf.ORIG"), { throwIfNoEntry: false })).toBeUndefined();
  });

  it("can be prepared twice without losing the image's original", async () => {
    writeFileSync(join(root, "etc/resolv.conf"), "nameserver 203.0.113.1\n");
    useHostResolvConf(root, { hostResolvConf: hostConf });
    useHostResolvConf(root, { hostResolvConf: hostConf });
    expect(read("etc/resolv.conf.ORIG")).toBe("nameserver 203.0.113.1\n");
    expect(await restoreResolvConf(root, { host })).toBe("restored");
    expect(read("etc/resolv.conf")).toBe("nameserver 203.0.113.1\n");
  });
});
