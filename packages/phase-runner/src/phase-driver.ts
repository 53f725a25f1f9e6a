/** File name of the driver in the hook tree (a dotfile, so it never clashes with an element's file). */
export const PHASE_DRIVER_NAME = ".dib-phase-driver.bash";

/** The fd the driver writes its progress markers to: a private copy of stderr. */
const MARKER_FD = 57;

/**
 * The bash program that runs one phase. Our own code: the TypeScript side has already
 * chosen and ordered the files (planPhase), so the driver only sources and runs them, in
 * ONE shell, as DIB's phases behave: environment.d is sourced under `set -eu`, an
 * `exit 1` there aborts the phase, the first failing script stops it.
 */
export const PHASE_DRIVER_SCRIPT = `#!/bin/bash
# Runs one dib build phase (written by @dib/phase-runner; regenerated for every phase).
#
# usage: bash ${PHASE_DRIVER_NAME} PHASE_DIR ENV_DIR NONCE [ENV_FILE ...] -- [SCRIPT ...]
#
# Sources each ENV_FILE (from ENV_DIR) in this shell, then runs each SCRIPT (from
# PHASE_DIR) in the given order and stops at the first one that fails, exiting with its
# code. Progress goes to fd ${MARKER_FD}, a copy of stderr that environment files and
# scripts do not see, one line per event:
#   @@dib-phase:NONCE EVENT EPOCH_SECONDS NAME [EXIT_CODE]
# with EVENT one of env-start, env-end, start, end, finished.

set -eu
set -o pipefail

if [ "$#" -lt 3 ]; then
  echo "usage: $0 PHASE_DIR ENV_DIR NONCE [ENV_FILE ...] -- [SCRIPT ...]" >&2
  exit 2
fi

_dib_phase_dir=$1
_dib_env_dir=$2
_dib_nonce=$3
shift 3
_dib_env_files=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  _dib_env_files+=("$1")
  shift
done
if [ "$#" -gt 0 ]; then
  shift
fi
_dib_scripts=("$@")
# Environment files are sourced without our arguments.
set --

exec ${MARKER_FD}>&2

_dib_mark() {
  local now
  if [ -n "\${EPOCHREALTIME:-}" ]; then
    now=$EPOCHREALTIME
  else
    now=$(date +%s.%N 2>/dev/null) || now=0
  fi
  printf '@@dib-phase:%s %s %s %s\\n' "$_dib_nonce" "$1" "$now" "\${*:2}" >&${MARKER_FD}
}

# Trace the sourcing only when the build is traced (-x).
case "\${DIB_DEBUG_TRACE:-0}" in
  '' | 0) _dib_trace_env=0 ;;
  *) _dib_trace_env=1 ;;
esac

# \${a[@]+...}: an empty array is "unbound" under set -u in bash before 4.4.
for _dib_file in \${_dib_env_files[@]+"\${_dib_env_files[@]}"}; do
  _dib_mark env-start "$_dib_file"
  if [ "$_dib_trace_env" = 1 ]; then
    set -x
  fi
  # shellcheck source=/dev/null
  source "$_dib_env_dir/$_dib_file"
  { set +x; } 2>/dev/null
  _dib_mark env-end "$_dib_file"
done

for _dib_script in \${_dib_scripts[@]+"\${_dib_scripts[@]}"}; do
  _dib_mark start "$_dib_script"
  _dib_rc=0
  "$_dib_phase_dir/$_dib_script" ${MARKER_FD}>&- || _dib_rc=$?
  _dib_mark end "$_dib_script" "$_dib_rc"
  if [ "$_dib_rc" -ne 0 ]; then
    exit "$_dib_rc"
  fi
done
_dib_mark finished -
`;

export type DriverEvent = "env-start" | "env-end" | "start" | "end" | "finished";

export interface DriverMarker {
  event: DriverEvent;
  /** Epoch seconds from the driver's clock; undefined when it has none (no bash 5, no date). */
  at: number | undefined;
  name: string;
  exitCode?: number;
}

const EVENTS = new Set<string>(["env-start", "env-end", "start", "end", "finished"]);

/**
 * Splits a line of the driver's stderr into the output before a marker (a script may
 * leave a partial line) and the marker itself. Lines without this run's nonce are output.
 */
export function parseDriverLine(
  line: string,
  nonce: string,
): { output: string | undefined; marker: DriverMarker | undefined } {
  const prefix = `@@dib-phase:${nonce} `;
  const at = line.indexOf(prefix);
  if (at < 0) return { output: line, marker: undefined };
  const [event = "", time = "", name = "", code] = line.slice(at + prefix.length).split(" ");
  const output = at > 0 ? line.slice(0, at) : undefined;
  if (!EVENTS.has(event)) return { output: line, marker: undefined };
  const seconds = Number(time.replace(",", "."));
  const marker: DriverMarker = {
    event: event as DriverEvent,
    at: Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
    name,
  };
  if (code !== undefined) marker.exitCode = Number(code);
  return { output, marker };
}
