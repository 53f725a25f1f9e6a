#!/usr/bin/env bash
# Sets up this Debian machine (and the minbase tree the element tests use) and runs every
# check and test: build, typecheck, lint,
# release checks (changesets, package metadata, packed tarballs with publint and
# arethetypeswrong, unused files/exports/dependencies with knip), then the unit, root integration and end-to-end tests (`pnpm test`).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."
scripts/setup-host.sh
scripts/make-test-minbase.sh
pnpm turbo run build typecheck --output-logs=errors-only
pnpm lint
# Release hygiene: every changeset names a workspace package, metadata and LICENSE in step,
# the tarballs pass publint and arethetypeswrong, nothing unused (knip).
pnpm -s changeset status >/dev/null
pnpm check:metadata
pnpm check:pack
pnpm check:unused
pnpm test
