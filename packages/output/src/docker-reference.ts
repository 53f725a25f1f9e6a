import { DibError } from "@dib/host";

/** A `--docker-target` split into what the archive formats record. */
export interface DockerReference {
  /** Repository with any registry host: `example.com:5000/team/image`. */
  repository: string;
  /** `latest` when none was given, as docker does. */
  tag: string;
  /** `repository:tag`, as `docker images` shows it. */
  reference: string;
}

// The distribution reference grammar, without digests (an archive can only carry a tag).
const HOST = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)`;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY = new RegExp(`^${HOST}?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;

/** Parses `name[:tag]`; a colon before the last `/` belongs to a registry port. */
export function parseDockerTarget(target: string): DockerReference {
  const slash = target.lastIndexOf("/");
  const colon = target.lastIndexOf(":");
  const hasTag = colon > slash;
  const repository = hasTag ? target.slice(0, colon) : target;
  const tag = hasTag ? target.slice(colon + 1) : "latest";
  if (!REPOSITORY.test(repository) || !TAG.test(tag)) {
    throw new DibError("DIB_OUTPUT_DOCKER_TARGET", `invalid --docker-target "${target}"`, {
      hint: "give a lower-case image name with an optional tag, e.g. my-image:1.0 or registry.example.com/team/image:latest",
    });
  }
  return { repository, tag, reference: `${repository}:${tag}` };
}

/** The OCI platform of a DIB architecture name (`-a` / ARCH). */
export interface OciPlatform {
  architecture: string;
  os: "linux";
  variant?: string;
}

const PLATFORMS: Record<string, Omit<OciPlatform, "os">> = {
  amd64: { architecture: "amd64" },
  x86_64: { architecture: "amd64" },
  arm64: { architecture: "arm64", variant: "v8" },
  aarch64: { architecture: "arm64", variant: "v8" },
  armhf: { architecture: "arm", variant: "v7" },
  i386: { architecture: "386" },
  i686: { architecture: "386" },
  ppc64el: { architecture: "ppc64le" },
  ppc64le: { architecture: "ppc64le" },
  s390x: { architecture: "s390x" },
  riscv64: { architecture: "riscv64" },
};

const NODE_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "armhf",
  ia32: "i386",
  ppc64: "ppc64el",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** Maps `-a` to the platform recorded in image configs; unset means the host's. */
export function ociPlatform(arch?: string): OciPlatform {
  const name = arch ?? NODE_ARCH[process.arch] ?? process.arch;
  const known = PLATFORMS[name];
  return { os: "linux", ...(known ?? { architecture: name }) };
}
