import type { Host } from "@dib/host";

/**
 * Copies a root tree into the mounted image, keeping what a root filesystem needs: owners,
 * modes, timestamps, extended attributes and ACLs, hard links, device nodes and holes in
 * sparse files. Copies `from/.`, so top-level dotfiles come along (DIB's `cp built/*`
 * loses them).
 */
export async function copyTree(host: Host, from: string, to: string): Promise<void> {
  await host.run(["cp", "-a", "--sparse=always", "--", `${from}/.`, `${to}/`], {
    hint: "copying the root tree into the image failed; is the image big enough (--image-size)?",
  });
}
