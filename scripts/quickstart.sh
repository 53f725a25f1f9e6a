#!/usr/bin/env bash
# Quick start: set up this Debian machine and build a bootable Debian image (debian.qcow2).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."
scripts/setup-host.sh
pnpm turbo run build --output-logs=errors-only
node packages/cli/dist/bin.js debian-minimal vm -o debian "$@"
echo "boot it with: node packages/cli/dist/bin.js boot-test debian.qcow2"
