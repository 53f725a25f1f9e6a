import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type BuildOptionsInput, parseBuildOptions } from "./build-options.js";
import { planBuild } from "./build-plan.js";
import {
  dibCodeDigest,
  mirrorOf,
  namedFileDigests,
  outputSettings,
  outputsNotReusable,
} from "./stage-cache.js";

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
    expect(off).not.toContain("output-store");
  });

  it("stores the outputs after the last one is written, before the clean-up", () => {
    const names = planBuild({ ...input, imageTypes: ["tar", "qcow2"], stageCache: true }).steps.map(
      (s) => s.name,
    );
    expect(names.slice(-3)).toEqual(["disk-outputs", "output-store", "workspace-cleanup"]);
  });
});

describe("the output key's settings", () => {
  const options = (extra: Partial<BuildOptionsInput> = {}) =>
    parseBuildOptions({
      elements: ["x"],
      imageCache: "/cache",
      lockfilesDir: "/locks",
      cwd: "/work",
      ...extra,
    });

  it("keys what shapes the outputs, not how the build is watched or where it works", () => {
    const base = outputSettings(options());
    expect(base["image name"]).toBe('"image"');
    for (const changed of [
      { imageTypes: ["vhd"] },
      { compress: false },
      { checksums: ["md5"] },
      { imageSizeGb: 3 },
      { qemuImgOptions: "compat=0.10" },
      { fsType: "xfs" },
      { imageName: "other" },
    ]) {
      expect(outputSettings(options(changed))).not.toEqual(base);
    }
    for (const same of [
      { debugTrace: 2 },
      { tmpDir: "/var/tmp" },
      { imageName: "elsewhere/image" },
      { logfile: "log" },
      { stageCache: "bypass" as const },
      { overwriteOldImage: true },
      { keepOnFailure: true },
    ]) {
      expect(outputSettings(options(same))).toEqual(base);
    }
  });

  it("keys the content of a file:// block-device config", () => {
    const dir = mkdtempSync(join(tmpdir(), "dib-bdc-"));
    try {
      writeFileSync(join(dir, "c.yaml"), "- local_loop: {}\n");
      const config = { blockDeviceConfig: `file://${join(dir, "c.yaml")}` };
      const before = outputSettings(options(config));
      writeFileSync(join(dir, "c.yaml"), "- local_loop: {name: x}\n");
      expect(outputSettings(options(config))["block-device config file"]).not.toBe(
        before["block-device config file"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("-t docker cannot be copied: it loads the container engine", () => {
    expect(outputsNotReusable(options())).toBeUndefined();
    expect(outputsNotReusable(options({ imageTypes: ["docker"], dockerTarget: "a:b" }))).toMatch(
      /docker/,
    );
  });

  it("dib's code is digested once per process", () => {
    expect(dibCodeDigest()).toMatch(/^[0-9a-f]{64}$/);
    expect(dibCodeDigest()).toBe(dibCodeDigest());
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
