import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/**
 * Recording stand-ins for the rpm family's package tools (dnf, yum, rpm, yumdownloader) and
 * container runtimes (podman, buildah, docker), for plan tests of the real hook scripts:
 * each call is appended to a log as one line `tool<TAB>arg<TAB>arg…`, and the few effects
 * later steps depend on are reproduced (downloaded files appear in --destdir, `rpm --eval`
 * answers). A dnf call also records the rpm database path its ~/.rpmmacros names and the
 * repository files its reposdir holds at that moment.
 */
export interface StandIns {
  /** Folder to put first on PATH. */
  bin: string;
  /** The calls so far, one array of words each, tool first. */
  calls: () => string[][];
  /** Repository files dnf saw (reposdir), by file name, from the latest dnf call. */
  repos: () => Record<string, string>;
  /** The %_dbpath in the ~/.rpmmacros of the latest dnf call ("" if none). */
  dbpath: () => string;
  /** Forgets the calls. */
  reset: () => void;
}

const script = (tool: string, log: string, state: string) => `#!/bin/bash
# Recording stand-in for ${tool} (dib plan tests).
set -eu
line=${tool}
for a in "$@"; do line+=$'\\t'"$a"; done
printf '%s\\n' "$line" >> ${log}
tool=${tool}
case "$tool" in
  dnf | yum)
    if [ -f "\${HOME:-/nonexistent}/.rpmmacros" ]; then
      sed -n 's/^%_dbpath[[:space:]]*//p' "$HOME/.rpmmacros" > ${state}/dbpath
    fi
    reposdir=""; destdir=""
    for a in "$@"; do
      case "$a" in
        --setopt=reposdir=*) reposdir=\${a#--setopt=reposdir=} ;;
      esac
    done
    prev=""
    for a in "$@"; do
      case "$prev" in --destdir | --downloaddir) destdir=$a ;; esac
      case "$a" in --destdir=* | --downloaddir=*) destdir=\${a#*=} ;; esac
      prev=$a
    done
    if [ -n "$reposdir" ] && [ -d "$reposdir" ]; then
      rm -rf ${state}/repos && mkdir -p ${state}/repos && cp "$reposdir"/*.repo ${state}/repos/ 2>/dev/null || true
    fi
    if [ "\${1:-}" = --version ]; then echo "\${FAKE_DNF_VERSION:-4.14.0}"; exit 0; fi
    if [ "\${1:-}" = repoquery ]; then printf '%s' "\${FAKE_REPOQUERY:-}"; exit 0; fi
    # What dnf would download: one file per package name after the subcommand.
    if [ -n "$destdir" ]; then
      mkdir -p "$destdir"
      seen=0; prev=""
      for a in "$@"; do
        if [ "$seen" = 0 ]; then
          case "$a" in download | install) seen=1 ;; esac
          prev=$a; continue
        fi
        case "$prev" in --destdir | --downloaddir) prev=$a; continue ;; esac
        prev=$a
        case "$a" in -* | */*) continue ;; esac
        touch "$destdir/$a-1.0-1.noarch.rpm"
      done
    fi
    ;;
  rpm)
    if [ "\${1:-}" = --eval ]; then echo "\${FAKE_RPM_DBPATH:-/var/lib/rpm}"; fi
    ;;
  podman | docker | buildah)
    # FAKE_FAIL names a subcommand that fails, to exercise the failure paths.
    if [ -n "\${FAKE_FAIL:-}" ] && [ "\${1:-}" = "$FAKE_FAIL" ]; then exit 125; fi
    case "\${1:-}" in
      export) tar -cf - -C "\${FAKE_ROOTFS:-/nonexistent}" . ;;
      build)
        for a in "$@"; do
          case "$a" in type=tar,dest=*) tar -cf "\${a#type=tar,dest=}" -C "\${FAKE_ROOTFS:-/nonexistent}" . ;; esac
        done
        ;;
    esac
    ;;
esac
exit "\${FAKE_EXIT:-0}"
`;

export function makeStandIns(dir: string): StandIns {
  const bin = join(dir, "bin");
  const state = join(dir, "state");
  const log = join(dir, "calls.log");
  mkdirSync(bin, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(log, "");
  for (const tool of ["dnf", "yum", "rpm", "yumdownloader", "podman", "buildah", "docker"]) {
    writeFileSync(join(bin, tool), script(tool, log, state));
    chmodSync(join(bin, tool), 0o755);
  }
  return {
    bin,
    calls: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\t")),
    repos: () => {
      const repos = join(state, "repos");
      if (!existsSync(repos)) return {};
      const out: Record<string, string> = {};
      for (const name of readdirSync(repos).sort())
        out[name] = readFileSync(join(repos, name), "utf8");
      return out;
    },
    dbpath: () =>
      existsSync(join(state, "dbpath")) ? readFileSync(join(state, "dbpath"), "utf8").trim() : "",
    reset: () => writeFileSync(log, ""),
  };
}
