import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planBuild } from "./build-plan.js";
import { mirrorOf, namedFileDigests } from "./stage-cache.js";

describe("the stage cache in the plan", () => {
  const input = {
    imageTypes: ["tar"],
    imageElements: ["x"],
    installPackages: [],
    ramdisk: false,
    blockDeviceConfig: "fallback" as const,
  };

  it("restores before root.d and stores after post-install.d, only when on", () => {
    const names = planBuild({ ...input, stageCache: true }).steps.map((s) => s.name);
    expect(names.slice(names.indexOf("block-device-init"), names.indexOf("root-unmount"))).toEqual([
      "block-device-init",
      "stage-restore",
      "root.d",
      "install-type",
      "extra-data.d",
      "chroot-mount",
      "pre-install.d",
      "install.d",
      "post-install.d",
      "stage-store",
      "post-root.d",
    ]);
    const off = planBuild(input).steps.map((s) => s.name);
    expect(off).not.toContain("stage-restore");
    expect(off).not.toContain("stage-store");
  });
});

describe("mirrorOf", () => {
  it("keys a Debian build on its release, -updates and -security indexes", () => {
    expect(mirrorOf({ DIB_RELEASE: "bookworm" }, ["debian-minimal", "debootstrap"])).toEqual({
      mirror: "http://deb.debian.org/debian",
      suites: ["bookworm", "bookworm-updates"],
      security: "http://deb.debian.org/debian-security",
    });
  });

  it("takes debian-minimal's default mirror from the host's apt sources, as the element does", () => {
    const sources =
      "deb http://mirror.example/debian bookworm main\ndeb http://mirror.example/debian-security bookworm-security main\n";
    expect(mirrorOf({ DIB_RELEASE: "bookworm" }, ["debian-minimal"], sources)).toMatchObject({
      mirror: "http://mirror.example/debian",
      security: "http://mirror.example/debian-security",
    });
    expect(
      mirrorOf(
        { DIB_RELEASE: "bookworm", DIB_DISTRIBUTION_MIRROR: "http://m/d" },
        ["debian-minimal"],
        sources,
      ),
    ).toMatchObject({ mirror: "http://m/d" });
  });

  it("says why when there is nothing to key on", () => {
    expect(mirrorOf({}, ["centos"])).toEqual({
      reason: expect.stringMatching(/no mirror to key the stage on/),
    });
    expect(mirrorOf({}, ["debian-minimal"])).toEqual({
      reason: expect.stringMatching(/DIB_RELEASE is not set/),
    });
    expect(
      mirrorOf({ DIB_DISTRIBUTION_MIRROR: "http://127.0.0.1:1/repo" }, ["minbase-os"]),
    ).toEqual({
      mirror: "http://127.0.0.1:1/repo",
      suites: [],
    });
  });
});

describe("namedFileDigests", () => {
  it("keys the content of host files the variables name, not folders or the build's own files", () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-named-"));
    try {
      writeFileSync(join(dir, "keys"), "ssh-ed25519 AAAA one\n");
      mkdirSync(join(dir, "build"));
      writeFileSync(join(dir, "build", "x"), "x");
      const vars = {
        DIB_DEV_USER_AUTHORIZED_KEYS: join(dir, "keys"),
        DIB_IMAGE_CACHE: dir,
        INSIDE: join(dir, "build", "x"),
        PATH: `${dir}:/usr/bin`,
        PLAIN: "text",
      };
      const first = namedFileDigests(vars, join(dir, "build"));
      expect(Object.keys(first)).toEqual(["file named by DIB_DEV_USER_AUTHORIZED_KEYS"]);
      writeFileSync(join(dir, "keys"), "ssh-ed25519 AAAA two\n");
      expect(namedFileDigests(vars, join(dir, "build"))).not.toEqual(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
