import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveInRoot } from "./path-in-root.js";
import { safeRemove } from "./safe-remove.js";

let scratch: string;
/** The tree standing for an image's `/`; `outside` is a host directory next to it. */
let root: string;
let outside: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "dib-path-in-root-"));
  root = join(scratch, "root");
  outside = join(scratch, "outside");
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "usr/lib"), { recursive: true });
  mkdirSync(outside);
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe("resolveInRoot", () => {
  it("joins plain paths below the root, absolute or relative", () => {
    expect(resolveInRoot(root, "/usr/lib")).toBe(join(root, "usr/lib"));
    expect(resolveInRoot(root, "usr/lib")).toBe(join(root, "usr/lib"));
    expect(resolveInRoot(root, "/")).toBe(root);
    expect(resolveInRoot(root, "")).toBe(root);
  });

  it("never climbs above the root with ..", () => {
    expect(resolveInRoot(root, "/../../../hostdir")).toBe(join(root, "hostdir"));
    expect(resolveInRoot(root, "/usr/../../etc")).toBe(join(root, "etc"));
  });

  it("resolves an absolute symlink from the root, not from the host's /", () => {
    symlinkSync(outside, join(root, "boot")); // absolute host path: /tmp/…/outside
    expect(resolveInRoot(root, "/boot")).toBe(join(root, outside));
    symlinkSync("/", join(root, "var"));
    expect(resolveInRoot(root, "/var/lib")).toBe(join(root, "lib"));
  });

  it("keeps a symlink full of .. inside the root", () => {
    symlinkSync("/../../etc", join(root, "boot"));
    expect(resolveInRoot(root, "/boot/efi")).toBe(join(root, "etc/efi"));
    symlinkSync("../../../../outside", join(root, "usr/lib/up"));
    expect(resolveInRoot(root, "/usr/lib/up/x")).toBe(join(root, "outside/x"));
  });

  it("follows chains of relative and absolute links", () => {
    symlinkSync("usr/lib", join(root, "lib"));
    symlinkSync("/lib", join(root, "lib64"));
    symlinkSync("../lib64/", join(root, "etc/l"));
    expect(resolveInRoot(root, "/etc/l/modules")).toBe(join(root, "usr/lib/modules"));
  });

  it("fails on a symlink loop instead of spinning", () => {
    symlinkSync("b", join(root, "a"));
    symlinkSync("a", join(root, "b"));
    expect(() => resolveInRoot(root, "/a/x")).toThrow(
      expect.objectContaining({ code: "DIB_PATH_SYMLINK_LOOP" }),
    );
    symlinkSync(".", join(root, "self"));
    expect(resolveInRoot(root, "/self/self/etc")).toBe(join(root, "etc"));
  });

  it("leaves a final symlink alone with followFinal: false", () => {
    symlinkSync("/", join(root, "var"));
    expect(resolveInRoot(root, "/var", { followFinal: false })).toBe(join(root, "var"));
  });

  it("makes missing directories inside the root with create", () => {
    symlinkSync("/../../outside-made", join(root, "boot"));
    const made = resolveInRoot(root, "/boot/efi", { create: true });
    expect(made).toBe(join(root, "outside-made/efi"));
    expect(lstatSync(made).isDirectory()).toBe(true);
    expect(existsSync(join(scratch, "outside-made"))).toBe(false);
  });

  it("refuses to go through a file", () => {
    writeFileSync(join(root, "etc/passwd"), "");
    expect(() => resolveInRoot(root, "/etc/passwd/x", { create: true })).toThrow(
      expect.objectContaining({ code: "DIB_PATH_NOT_DIRECTORY" }),
    );
  });
});

describe("safeRemove within a directory", () => {
  it("removes the symlink, not what it points at", () => {
    writeFileSync(join(outside, "keep"), "host file");
    symlinkSync(outside, join(root, "link"));
    safeRemove(join(root, "link"), { within: root });
    expect(existsSync(join(root, "link"))).toBe(false);
    expect(existsSync(join(outside, "keep"))).toBe(true);
  });

  it("cannot be led outside by a symlink on the way", () => {
    mkdirSync(join(outside, "victim"));
    symlinkSync("/../outside", join(root, "tmp"));
    safeRemove(join(root, "tmp", "victim"), { within: root });
    expect(existsSync(join(outside, "victim"))).toBe(true);
  });

  it("refuses a path outside", () => {
    expect(() => safeRemove(outside, { within: root })).toThrow(
      expect.objectContaining({ code: "DIB_UNSAFE_REMOVE" }),
    );
    expect(existsSync(outside)).toBe(true);
  });
});
