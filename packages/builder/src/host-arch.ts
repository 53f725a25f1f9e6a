import type { Host } from "@dib/host";

/** `uname -m` in Debian's architecture names (§1.1 `-a`). */
export function debianArch(machine: string): string {
  if (machine === "x86_64") return "amd64";
  if (machine === "aarch64") return "arm64";
  if (/^armv/.test(machine)) return "armhf";
  return machine;
}

/** The default ARCH: `dpkg --print-architecture` on Debian hosts, else `uname -m` mapped. */
export async function hostArch(host: Host): Promise<string> {
  const dpkg = await host
    .run(["dpkg", "--print-architecture"], { allowFailure: true })
    .catch(() => undefined);
  const fromDpkg = dpkg?.exitCode === 0 ? dpkg.stdout.trim() : "";
  if (fromDpkg !== "") return fromDpkg;
  const uname = await host.run(["uname", "-m"]);
  return debianArch(uname.stdout.trim());
}
