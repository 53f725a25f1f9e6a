#!/usr/bin/env bash
# The bookworm minbase tree the element hook tests (test/elements) run hooks in, made once
# with mmdebstrap and reused (DIB_TEST_MINBASE_TAR to put it elsewhere). Without it those
# tests skip, saying so.
set -euo pipefail
out=${DIB_TEST_MINBASE_TAR:-/var/cache/dib-dev/bookworm-minbase.tar}
if [ -s "$out" ]; then
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo "make-test-minbase: bootstrapping $out"
mmdebstrap --quiet --variant=minbase --include=tzdata bookworm "$out.part.tar" http://deb.debian.org/debian
mv "$out.part.tar" "$out"
