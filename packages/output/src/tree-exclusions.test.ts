import type { MountEntry } from "@dib/host";
import { describe, expect, it } from "vitest";
import {
  escapeWildcards,
  squashfsExcludeArguments,
  tarExcludeOptions,
  treeExclusions,
} from "./tree-exclusions.js";

function mount(target: string): MountEntry {
  return { id: 1, parentId: 0, target, root: "/", fstype: "none", source: "none", options: "rw" };
}

describe("treeExclusions", () => {
  it("always empties proc and sys, keeping the directories", () => {
    expect(treeExclusions("/b/mnt", [])).toEqual([
      { path: "proc", contentsOnly: true },
      { path: "sys", contentsOnly: true },
    ]);
  });

  it("empties every mount strictly below the tree, but not the tree itself or its neighbours", () => {
    const mounts = [
      "/b/mnt",
      "/b/mnt/dev",
      "/b/mnt/dev/pts",
      "/b/mnt-other/x",
      "/b",
      "/b/mnt/proc",
    ].map(mount);
    expect(treeExclusions("/b/mnt", mounts).map((e) => e.path)).toEqual([
      "dev",
      "dev/pts",
      "proc",
      "sys",
    ]);
  });

  it("keeps the image's own filesystems such as /boot", () => {
    const mounts = ["/b/mnt/boot", "/b/mnt/boot/efi", "/b/mnt/dev"].map(mount);
    expect(
      treeExclusions("/b/mnt", mounts, { keep: ["/boot", "/boot/efi/"] }).map((e) => e.path),
    ).toEqual(["dev", "proc", "sys"]);
  });

  it("drops a bind-mounted file whole", () => {
    const exclusions = treeExclusions("/b/mnt", [mount("/b/mnt/etc/resolv.conf")], {
      isDirectory: (p) => !p.endsWith("resolv.conf"),
    });
    expect(exclusions[0]).toEqual({ path: "etc/resolv.conf", contentsOnly: false });
    expect(tarExcludeOptions(exclusions)[0]).toBe("--exclude=./etc/resolv.conf");
  });

  it("escapes wildcard characters in mount point names", () => {
    expect(escapeWildcards("mnt/a*b?[c]\\d")).toBe("mnt/a\\*b\\?\\[c\\]\\\\d");
    const exclusions = [{ path: "mnt/[x]", contentsOnly: true }];
    expect(tarExcludeOptions(exclusions)).toEqual(["--exclude=./mnt/\\[x\\]/*"]);
    expect(squashfsExcludeArguments(exclusions)).toEqual(["-e", "mnt/\\[x\\]/*"]);
  });
});
