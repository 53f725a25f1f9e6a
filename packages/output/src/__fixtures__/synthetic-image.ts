import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Host } from "@dib/host";
import { isRoot } from "@dib/test";

/**
 * A small root tree with what archive formats get wrong: a user xattr, an ACL, a hard
 * link, a symlink, a file owned by another uid and (as root) a device node; proc and sys
 * hold files that must not ship.
 */
export async function makeSyntheticTree(host: Host, tree: string): Promise<void> {
  for (const d of [
    "etc",
    "usr/bin",
    "usr/share/zoneinfo",
    "home/user",
    "proc/1",
    "sys/kernel",
    "dev",
    "boot",
  ]) {
    mkdirSync(join(tree, d), { recursive: true });
  }
  writeFileSync(join(tree, "etc/os-release"), 'ID=dibtest\nPRETTY_NAME="dib synthetic"\n');
  writeFileSync(join(tree, "etc/hostname"), "synthetic\n");
  writeFileSync(join(tree, "etc/with-xattr"), "xattr\n");
  writeFileSync(join(tree, "etc/with-acl"), "acl\n");
  writeFileSync(join(tree, "usr/share/zoneinfo/UTC"), "TZif2\n");
  writeFileSync(join(tree, "usr/bin/tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(tree, "usr/bin/tool"), 0o755);
  linkSync(join(tree, "usr/bin/tool"), join(tree, "usr/bin/tool-hardlink"));
  symlinkSync("../usr/share/zoneinfo/UTC", join(tree, "etc/localtime"));
  writeFileSync(join(tree, "home/user/notes"), "owned by 1000\n");
  writeFileSync(join(tree, "proc/1/status"), "host process\n");
  writeFileSync(join(tree, "sys/kernel/state"), "host sysfs\n");
  writeFileSync(join(tree, "boot/vmlinuz"), "kernel\n");
  await host.run(["setfattr", "-n", "user.dib", "-v", "1", join(tree, "etc/with-xattr")]);
  await host.run(["setfacl", "-m", "u:1234:r", join(tree, "etc/with-acl")]);
  if (isRoot) {
    await host.run(["chown", "-h", "1000:1000", join(tree, "home/user/notes")]);
    await host.run(["mknod", "-m", "666", join(tree, "dev/null"), "c", "1", "3"]);
  }
}

/** A sparse 64 MiB raw disk image holding the tree in an ext4, made without a loop device. */
export async function makeRawImage(host: Host, tree: string, file: string): Promise<void> {
  await host.run(["truncate", "-s", "64M", file]);
  await host.run(["mkfs.ext4", "-q", "-F", "-L", "dibtest", "-d", tree, file]);
}
