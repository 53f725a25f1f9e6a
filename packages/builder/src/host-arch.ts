import { debianArchName } from "@dib/elements";
import type { Host } from "@dib/host";

/** The default ARCH: `dpkg --print-architecture` on Debian hosts, else `uname -m` mapped. */
export async function hostArch(host: Host): Promise<string> {
  const dpkg = await host
    .run(["dpkg", "--print-architecture"], { allowFailure: true })
    .catch(() => undefined);
  const fromDpkg = dpkg?.exitCode === 0 ? dpkg.stdout.trim() : "";
  if (fromDpkg !== "") return fromDpkg;
  const uname = await host.run(["uname", "-m"]);
  return debianArchName(uname.stdout.trim());
}
