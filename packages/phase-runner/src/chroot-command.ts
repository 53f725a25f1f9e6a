/** PATH inside the chroot (DIB's effective one: the standard directories). */
export const CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The argv that runs `argv` inside `root` with the caller's exported environment, the way
 * DIB's run_in_target does: the host's TMPDIR and VIRTUAL_ENV dropped, the standard PATH,
 * HOME=/root.
 */
export function chrootArgv(root: string, argv: readonly string[]): string[] {
  return [
    "chroot",
    root,
    "env",
    "-u",
    "TMPDIR",
    "-u",
    "VIRTUAL_ENV",
    `PATH=${CHROOT_PATH}`,
    "HOME=/root",
    ...argv,
  ];
}
