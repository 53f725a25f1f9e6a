import { DibError } from "@dib/errors";

/**
 * One image architecture under its names: the Debian name dib hands hooks as ARCH (what
 * DIB's own default produces: `dpkg --print-architecture`), the other names DIB's `-a`
 * accepts for it, the kernel's `uname -m`, the rpm name and QEMU's user-mode emulator.
 */
export interface Architecture {
  /** Debian's name: ARCH as hooks see it. */
  name: string;
  /** Other spellings `-a` accepts (DIB's enum has both aarch64 and arm64, x86_64 and amd64). */
  aliases: readonly string[];
  /** `uname -m` on a machine of this architecture. */
  machine: string;
  /** The rpm family's name (yum's basearch). */
  rpm: string;
  /** QEMU's name: `qemu-<qemu>-static` runs it, `qemu-system-<system>` boots it. */
  qemu: string;
  /** Architectures a CPU of this one runs without emulation. */
  runs?: readonly string[];
}

/** The architectures DIB's `-a` knows (its YAML schema's enum), in Debian's names. */
export const ARCHITECTURES: readonly Architecture[] = [
  {
    name: "amd64",
    aliases: ["x86_64"],
    machine: "x86_64",
    rpm: "x86_64",
    qemu: "x86_64",
    runs: ["i386"],
  },
  { name: "i386", aliases: ["i686", "i586", "i486"], machine: "i686", rpm: "i686", qemu: "i386" },
  { name: "arm64", aliases: ["aarch64"], machine: "aarch64", rpm: "aarch64", qemu: "aarch64" },
  {
    name: "armhf",
    aliases: ["armv7l", "armv7hl", "armv7"],
    machine: "armv7l",
    rpm: "armv7hl",
    qemu: "arm",
  },
  { name: "ppc64el", aliases: ["ppc64le"], machine: "ppc64le", rpm: "ppc64le", qemu: "ppc64le" },
  { name: "ppc64", aliases: [], machine: "ppc64", rpm: "ppc64", qemu: "ppc64" },
  { name: "powerpc", aliases: ["ppc"], machine: "ppc", rpm: "ppc", qemu: "ppc" },
  { name: "s390x", aliases: [], machine: "s390x", rpm: "s390x", qemu: "s390x" },
];

/** The architecture a name (`-a`, `uname -m`, a package-installs `arch:` entry) stands for. */
export function findArchitecture(name: string): Architecture | undefined {
  return ARCHITECTURES.find(
    (a) => a.name === name || a.aliases.includes(name) || a.machine === name || a.rpm === name,
  );
}

/**
 * The architecture `-a` names, or a DibError listing the names dib knows. `what` says
 * where the name came from, for the message.
 */
export function architecture(name: string, what = "-a"): Architecture {
  const found = findArchitecture(name.trim());
  if (found) return found;
  const known = ARCHITECTURES.flatMap((a) => [a.name, ...a.aliases]).join(", ");
  throw new DibError("DIB_UNKNOWN_ARCH", `${what} ${name}: not an architecture dib knows`, {
    hint: `use one of ${known}`,
  });
}

/** The Debian name of an architecture name; names dib does not know are returned as given. */
export function debianArchName(name: string): string {
  return findArchitecture(name)?.name ?? name;
}

/** Whether a CPU of architecture `host` runs `target` code natively (no emulator). */
export function runsNatively(host: string, target: string): boolean {
  const h = findArchitecture(host);
  const t = findArchitecture(target);
  if (!h || !t) return host === target;
  return h.name === t.name || (h.runs ?? []).includes(t.name);
}
