#!/usr/bin/env bash
# Benchmark: build `debian-minimal vm block-device-mbr` with dib (this repository's
# dib-cli) and with DIB (diskimage-builder's disk-image-create, when installed): cold (empty
# caches), warm (one finalise.d script changed since the last build), rebuild (nothing
# changed) and multi (`-t qcow2,vhd,tar,squashfs`, nothing else changed), and print median
# wall time, peak memory and output size of each, and the dib/DIB ratios. A script, not a
# test: see bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/run.sh [--runs N] [--only dib|DIB|both] [--keep] [--sample SECONDS]
       bench/run.sh --report RESULTS.tsv

Builds `debian-minimal vm block-device-mbr` plus a one-script `bench-probe` element
(DIB_RELEASE=bookworm) N times per tool and state and prints medians.

  --runs N          builds per tool and state (default 3)
  --states LIST     which states, in order (default cold,warm,rebuild,multi)
  --only dib        only this repository's dib-cli
  --only DIB        only diskimage-builder's disk-image-create (alias: ref)
  --only both       both and their ratios (the default; alias: dib-vs-DIB)
  --keep            keep outputs, logs and results.tsv (the work directory)
  --sample SECONDS  how often the build's process tree is sampled for memory (default 1)
  --report FILE     print the table for a results.tsv a --keep run left; builds nothing
  -h, --help        this text

cold: an empty DIB_IMAGE_CACHE. warm: the cache the tool's last build filled, with
bench-probe's finalise.d script changed. rebuild: nothing changed since the last build.
multi: like rebuild, with -t qcow2,vhd,tar,squashfs. dib runs with its stage and output
cache on (its default). Builds of the two tools alternate, so a change in the host's load hits
both.
Needs root (both tools need loop devices and mounts) and /usr/bin/time (Debian package
`time`); DIB also needs sudo. BENCH_DIR is where the work directory goes (default: TMPDIR
or /tmp); DIB_RELEASE overrides bookworm for both tools; BENCH_DIB_FROM=source runs
dib-cli from source (tsx) even when packages/cli/dist exists; BENCH_STAGE_CACHE=0 runs dib
without its stage and output cache (to see what the cache itself saves).
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
elements=(debian-minimal vm block-device-mbr bench-probe)
release=${DIB_RELEASE:-bookworm}
# The same apt sources for both tools. DIB 3.13's own default security line
# (security.debian.org <release>/updates) names a suite bookworm does not have, and only
# deb.debian.org may be reachable.
mirror=${DIB_DISTRIBUTION_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DIB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
apt_sources="default:deb $mirror $release main
updates:deb $mirror $release-updates main
security:deb $security_mirror $release-security main"

runs=3
states=cold,warm,rebuild,multi
only=both
keep=0
sample=1
report=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs | --only | --sample | --report | --states)
      [[ $# -ge 2 ]] || {
        echo "bench: $1 needs a value" >&2
        exit 2
      }
      declare "${1#--}=$2"
      shift 2
      ;;
    --runs=* | --only=* | --sample=* | --report=* | --states=*)
      opt=${1%%=*}
      declare "${opt#--}=${1#*=}"
      shift
      ;;
    --keep)
      keep=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done
IFS=, read -r -a state_list <<<"$states"
for state in "${state_list[@]}"; do
  case $state in
    cold | warm | rebuild | multi) ;;
    *)
      echo "bench: --states takes cold, warm, rebuild and multi, got '$state'" >&2
      exit 2
      ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || {
  echo "bench: --runs wants a positive integer, got '$runs'" >&2
  exit 2
}
[[ $sample =~ ^[0-9]+([.][0-9]+)?$ ]] || {
  echo "bench: --sample wants seconds, got '$sample'" >&2
  exit 2
}
# dib and DIB differ only in case, so accept spellings that do not.
case $only in
  dib) tools=(dib) ;;
  DIB | ref | reference | disk-image-create) tools=(DIB) ;;
  both | all | dib-vs-DIB | dib-vs-dib) tools=(dib DIB) ;;
  *)
    echo "bench: --only wants dib, DIB or both, got '$only'" >&2
    exit 2
    ;;
esac

say() { printf 'bench: %s\n' "$*" >&2; }

# --- report -------------------------------------------------------------------------------
# results.tsv: tool, cache state, run, wall s, max RSS kB, tree PSS kB, output bytes, load1.

median() {
  sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

stat_of() { # RESULTS TOOL STATE COLUMN → median
  awk -F'\t' -v t="$2" -v s="$3" -v c="$4" '$1 == t && $2 == s { print $c }' "$1" | median
}

count_of() { awk -F'\t' -v t="$2" -v s="$3" '$1 == t && $2 == s { n++ } END { print n + 0 }' "$1"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

print_report() { # RESULTS
  local results=$1 tool state n cells col
  if [[ ! -s $results ]]; then
    echo "(no build finished, so there is nothing to report)"
    return 0
  fi
  printf '%-5s %-7s %4s %9s %13s %13s %13s %6s\n' tool state runs "wall s" "peak RSS MiB" "tree PSS MiB" "output bytes" load
  for tool in dib DIB; do
    for state in cold warm rebuild multi; do
      n=$(count_of "$results" "$tool" "$state")
      ((n > 0)) || continue
      printf '%-5s %-7s %4d %9.1f %13s %13s %13.0f %6.2f\n' "$tool" "$state" "$n" \
        "$(stat_of "$results" "$tool" "$state" 4)" \
        "$(mib "$(stat_of "$results" "$tool" "$state" 5)")" \
        "$(mib "$(stat_of "$results" "$tool" "$state" 6)")" \
        "$(stat_of "$results" "$tool" "$state" 7)" \
        "$(stat_of "$results" "$tool" "$state" 8)"
    done
  done
  if grep -q '^dib	' "$results" && grep -q '^DIB	' "$results"; then
    echo
    printf '%-11s %9s %13s %13s %13s\n' "dib/DIB" "wall" "peak RSS" "tree PSS" "output"
    for state in cold warm rebuild multi; do
      [[ $(count_of "$results" dib "$state") -gt 0 && $(count_of "$results" DIB "$state") -gt 0 ]] || continue
      cells=()
      for col in 4 5 6 7; do
        cells+=("$(ratio "$(stat_of "$results" dib "$state" "$col")" "$(stat_of "$results" DIB "$state" "$col")")")
      done
      printf '%-11s %9s %13s %13s %13s\n' "$state" "${cells[@]}"
    done
  fi
  echo
  echo "Medians. peak RSS: the largest single process (GNU time's maximum resident set size)."
  echo "tree PSS: peak of the summed PSS of all the build's processes, sampled every ${sample}s."
  echo "Neither counts page cache or tmpfs. load: the 1-minute load average as each build began"
  echo "(this host has $(nproc) cores); a loaded host stretches wall times, of both tools alike."
}

if [[ -n $report ]]; then
  print_report "$report"
  exit 0
fi

# --- preconditions and work directory -----------------------------------------------------

if [[ $(id -u) -ne 0 ]]; then
  say "needs root: both tools attach loop devices and mount file systems"
  exit 1
fi
if [[ ! -x /usr/bin/time ]]; then
  say "needs GNU time at /usr/bin/time (apt-get install -y time)"
  exit 1
fi

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/dib-bench.XXXXXX")
mkdir -p "$work/logs" "$work/out" "$work/elements/bench-probe/finalise.d"

# bench-probe: one finalise.d script whose text says which build it is, so a warm build
# changes exactly one element file, and a rebuild none.
write_probe() { # WORD
  local script=$work/elements/bench-probe/finalise.d/90-bench-probe
  printf '#!/bin/bash\n# bench-probe: %s\nset -eu\necho %s >/etc/bench-probe\n' "$1" "$1" >"$script"
  chmod +x "$script"
  : >"$work/elements/bench-probe/element-deps"
}
write_probe cold
results=$work/results.tsv
: >"$results"

# Loop devices whose backing file is in the work directory. Mounts cannot outlive DIB's
# private mount namespace, loop devices can: a build that dies may leave them behind.
leftover_loops() {
  losetup -n -l -O NAME,BACK-FILE 2>/dev/null | awk -v w="$work/" 'index($2, w) == 1 { print $1 }'
}

detach_leftovers() {
  local dev
  for dev in $(leftover_loops); do
    say "WARNING: $1 left $dev attached; detaching it"
    losetup -d "$dev" || say "could not detach $dev"
  done
}

# On an interrupt: ask the running build to stop (each tool cleans up after itself on
# SIGTERM) and give it a minute, so nothing below is released while it still works.
stop_build() {
  local pid
  pid=$(cat "$work/build.pid" 2>/dev/null) || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  say "stopping the running build"
  # The build's process group (setsid in measure), and the descendants that left it
  # (sudo starts each command in a session of its own).
  # shellcheck disable=SC2046 # one PID per word
  kill -TERM -- "-$pid" $(tree_pids "$pid") 2>/dev/null || true
  for _ in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  say "the build did not stop within a minute; killing it"
  # shellcheck disable=SC2046
  kill -KILL -- "-$pid" $(tree_pids "$pid") 2>/dev/null || true
}

measure_pid=""

cleanup() {
  local rc=$?
  # Clean up as far as possible whatever fails on the way.
  set +e
  stop_build
  # The sampler ends with the build; let it write its last line before its folder goes.
  if [[ -n $measure_pid ]]; then
    for _ in $(seq 50); do
      kill -0 "$measure_pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  detach_leftovers "the benchmark"
  if findmnt -rno TARGET | grep -q "^$work/"; then
    say "something is still mounted below $work; not removing it:"
    findmnt -rno TARGET | grep "^$work/" >&2
  elif ((keep)); then
    rm -rf "$work/tmp" "$work/locks" "$work"/cache-*
    say "kept images, logs and results.tsv in $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted (SIGINT)"; exit 130' INT
trap 'say "terminated (SIGTERM)"; exit 143' TERM

# --- the two tools ------------------------------------------------------------------------

dib_cmd=()
dib_skip=""
dib_how=""
if [[ -f $repo/packages/cli/dist/bin.js && ${BENCH_DIB_FROM:-dist} != source ]]; then
  dib_cmd=(node "$repo/packages/cli/dist/bin.js")
  dib_how="dib-cli from packages/cli/dist/bin.js"
elif [[ -f $repo/packages/cli/src/bin.ts && -d $repo/node_modules/tsx ]]; then
  dib_cmd=(node --conditions=@dib/source --import tsx "$repo/packages/cli/src/bin.ts")
  dib_how="dib-cli from source (packages/cli/src/bin.ts via tsx; 'pnpm turbo run build' makes it use dist, without tsx's start-up cost)"
else
  dib_skip="neither packages/cli/dist/bin.js nor packages/cli/src/bin.ts with tsx installed"
fi
if [[ -z $dib_skip ]] && ! (cd "$repo" && "${dib_cmd[@]}" --help 2>/dev/null) | grep -Eq '^ +build( |$)'; then
  dib_skip="dib-cli has no build command yet ('dib-cli --help' lists none)"
fi
if [[ -z $dib_skip ]] && ! why=$(cd "$repo" && ELEMENTS_PATH="$work/elements" "${dib_cmd[@]}" element-info "${elements[@]}" 2>&1 >/dev/null); then
  dib_skip="dib-cli cannot resolve ${elements[*]} yet: $(grep -m1 -i error <<<"$why" || echo "${why%%$'\n'*}")"
fi

dib_ref_skip=""
dib_ref_how=""
use_standins=0
if ! command -v disk-image-create >/dev/null; then
  dib_ref_skip="disk-image-create is not installed (Debian package python3-diskimage-builder)"
elif ! command -v sudo >/dev/null; then
  dib_ref_skip="disk-image-create runs its privileged steps through sudo, which is not installed (apt-get install -y sudo)"
elif grep -qw device-mapper /proc/devices; then
  dib_ref_how="disk-image-create $(disk-image-create --version 2>/dev/null || true), with the host's kpartx and dmsetup"
elif ! command -v unshare >/dev/null; then
  dib_ref_skip="this kernel has no device-mapper, which DIB's kpartx needs, and unshare (util-linux) is missing for the stand-ins"
else
  use_standins=1
  dib_ref_how="disk-image-create $(disk-image-create --version 2>/dev/null || true), in a private mount namespace with bench/standins/kpartx and dmsetup in place of the real ones: this kernel has no device-mapper (see bench/README.md)"
fi

# build_cmd TOOL OUTDIR CACHE LOG: sets cmd to the argv of one build. Both tools get the
# same release, sources and cache policy, a cache of their own, and the work directory for
# their temporary files.
build_cmd() {
  local envs=(
    DIB_RELEASE="$release" DIB_IMAGE_CACHE="$3" TMP_DIR="$work/tmp" DIB_LOCKFILES="$work/locks"
    DIB_DISTRIBUTION_MIRROR="$mirror" DIB_APT_SOURCES_CONF="$apt_sources"
    ELEMENTS_PATH="$work/elements"
    # dib reuses its debootstrap tarball by default; DIB only with both of these.
    DIB_DEBOOTSTRAP_CACHE=1 DIB_DEBIAN_USE_DEBOOTSTRAP_CACHE=1
  )
  case $1 in
    dib)
      # tsx and the @dib/source condition resolve from the repository, hence -C.
      cmd=(env -C "$repo" "${envs[@]}" DIB_STAGE_CACHE="${BENCH_STAGE_CACHE:-1}" "${dib_cmd[@]}" "${elements[@]}" -o "$2/dib-image" "${types[@]}")
      ;;
    DIB)
      cmd=(env "${envs[@]}")
      if ((use_standins)); then
        cmd+=(unshare --mount --propagation private "$here/standins/with-standins" "${4%.log}.standins.log")
      fi
      cmd+=(disk-image-create -o "$2/dib-ref" "${types[@]}" "${elements[@]}")
      ;;
  esac
}

# --- measuring ----------------------------------------------------------------------------

# Process ROOT and all its descendants.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        q = p
        while (q != root && (q in parent) && q > 1) q = parent[q]
        if (q == root) print p
      }
    }'
}

# Sum of PSS (kB) over process ROOT and all its descendants, right now. PSS shares each
# page among the processes mapping it, so the sum does not count shared libraries twice.
tree_pss_kb() {
  local files=() p
  for p in $(tree_pids "$1"); do files+=("/proc/$p/smaps_rollup"); done
  if ((${#files[@]} == 0)); then
    echo 0
    return
  fi
  # A process may end between ps and grep: grep goes on past files it cannot read (and
  # then exits 2, which is no failure here).
  { grep -h '^Pss:' "${files[@]}" 2>/dev/null || true; } | awk '{ sum += $2 } END { print sum + 0 }'
}

# measure LOG COMMAND...: runs COMMAND (output to LOG) under /usr/bin/time -v while
# sampling its tree's PSS; prints "EXIT WALL_S MAXRSS_KB TREE_PEAK_KB".
measure() {
  local log=$1 timefile=$work/time.txt pid peak=0 now rc=0
  shift
  # Its own session and process group, so an interrupt can stop all of it at once.
  setsid /usr/bin/time -v -o "$timefile" "$@" >"$log" 2>&1 &
  pid=$!
  echo "$pid" >"$work/build.pid"
  while kill -0 "$pid" 2>/dev/null; do
    now=$(tree_pss_kb "$pid")
    if ((now > peak)); then peak=$now; fi
    sleep "$sample"
  done
  wait "$pid" || rc=$?
  rm -f "$work/build.pid"
  awk -v rc="$rc" -v peak="$peak" '
    /Elapsed \(wall clock\)/ {
      n = split($NF, t, ":"); wall = 0
      for (i = 1; i <= n; i++) wall = wall * 60 + t[i]
    }
    /Maximum resident set size/ { rss = $NF }
    END { printf "%d %.2f %d %d\n", rc, wall, rss, peak }' "$timefile"
  rm -f "$timefile"
}

# Apparent size in bytes of the files a build wrote as OUTDIR/NAME.*
output_bytes() {
  local f total=0
  for f in "$1/$2".*; do
    if [[ -f $f ]]; then total=$((total + $(stat -c %s "$f"))); fi
  done
  echo "$total"
}

declare -A given_up=()
failed=()

# build TOOL STATE I: one measured build. Cold builds start from an empty cache; the
# others reuse the cache the tool's last build filled.
build() {
  local tool=$1 state=$2 i=$3 name cache=$work/cache-$1 out log rc wall rss tree bytes load cmd
  local types=()
  case $state in
    cold) write_probe cold ;;
    warm) write_probe "warm-$i" ;;
    multi) types=(-t "qcow2,vhd,tar,squashfs") ;;
  esac
  case $tool in
    dib) name=dib-image ;;
    DIB) name=dib-ref ;;
  esac
  if [[ $state == cold ]]; then
    rm -rf "$cache"
    mkdir -p "$cache"
  fi
  out=$work/out/$tool-$state-$i
  log=$work/logs/$tool-$state-$i.log
  mkdir -p "$out" "$work/tmp" "$work/locks"
  load=$(cut -d' ' -f1 /proc/loadavg)
  say "$tool $state $i/$runs: building (load $load; log: $log)"
  build_cmd "$tool" "$out" "$cache" "$log"
  # In the background: bash runs an INT/TERM trap only once a foreground command ends,
  # while the builtin wait returns at once.
  measure "$log" "${cmd[@]}" >"$work/measure.out" &
  measure_pid=$!
  wait "$measure_pid"
  measure_pid=""
  read -r rc wall rss tree <"$work/measure.out"
  detach_leftovers "$tool $state $i"
  bytes=$(output_bytes "$out" "$name")
  if [[ $rc -ne 0 || $bytes -eq 0 ]]; then
    say "$tool $state $i/$runs FAILED (exit $rc, $bytes output bytes) after ${wall}s; the end of $log:"
    tail -n 25 "$log" | sed 's/^/    /' >&2
    failed+=("$tool $state build $i failed (exit $rc); no further $tool builds were run")
    given_up[$tool]=1
    return 0
  fi
  say "$tool $state $i/$runs: ${wall}s, peak RSS $(mib "$rss") MiB, tree PSS $(mib "$tree") MiB, $bytes bytes ($(du -sh "$out" | cut -f1) on disk)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$state" "$i" "$wall" "$rss" "$tree" "$bytes" "$load" >>"$results"
  # Only the last image of each kind is worth its disk space.
  if ((!keep)) && ((i < runs)); then rm -rf "$out"; fi
}

# --- main ---------------------------------------------------------------------------------

active=()
notes=()
say "work directory $work; $runs run(s) per tool and cache state; DIB_RELEASE=$release; elements: ${elements[*]}"
for tool in "${tools[@]}"; do
  case $tool in
    dib) skip=$dib_skip how=$dib_how ;;
    DIB) skip=$dib_ref_skip how=$dib_ref_how ;;
  esac
  if [[ -n $skip ]]; then
    say "$tool: skipped: $skip"
    notes+=("$tool was not run: $skip")
  else
    say "$tool: $how"
    notes+=("$tool: $how")
    active+=("$tool")
  fi
done

for state in "${state_list[@]}"; do
  for ((i = 1; i <= runs; i++)); do
    for tool in "${active[@]}"; do
      [[ -z ${given_up[$tool]:-} ]] || continue
      build "$tool" "$state" "$i"
    done
  done
done

echo
echo "${elements[*]} (DIB_RELEASE=$release), $runs run(s) per tool and cache state"
for line in "${notes[@]}"; do echo "  $line"; done
echo
print_report "$results"
for line in "${failed[@]}"; do echo "FAILED: $line"; done
((${#failed[@]} == 0))
