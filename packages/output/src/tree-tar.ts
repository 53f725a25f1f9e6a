import { type TreeExclusion, tarExcludeOptions } from "./tree-exclusions.js";

/**
 * The one tar invocation every tree archive (tar, tgz, docker, oci) is made from: the
 * tree on stdout with numeric owners, every xattr and ACL, device nodes and hard links as
 * they are, members sorted by name so two builds of the same tree give the same stream.
 */
export function treeTarArgv(tree: string, exclusions: readonly TreeExclusion[]): string[] {
  return [
    "tar",
    "--sort=name",
    "--numeric-owner",
    "--xattrs",
    "--xattrs-include=*",
    "--acls",
    ...tarExcludeOptions(exclusions),
    "-C",
    tree,
    "-cf",
    "-",
    ".",
  ];
}
