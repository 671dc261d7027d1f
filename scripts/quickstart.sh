#!/bin/sh
# The whole geo-ssf loop on a throwaway PostgreSQL (pg_virtualenv) and repositories it makes
# in a temporary folder: a primary scaffolds a type, migrates, publishes events and verifies;
# a secondary in another database and folder syncs, verifies, and follows a push.
#   scripts/quickstart.sh               install packages, build, run
#   scripts/quickstart.sh --no-install  build and run only
set -eu
cd "$(dirname "$0")/.."
[ "${1:-}" = "--no-install" ] || scripts/install-deps.sh
# Unity chunks of ten files, as scripts/test.sh builds: several times faster from scratch.
[ -d build ] || meson setup build -Dunity=on -Dunity_size=10 >/dev/null
if ! log=$(ninja -C build 2>&1); then echo "$log"; exit 1; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/geo-ssf-quickstart-XXXXXX")
trap 'rm -rf "$work"' EXIT
GEO_SSF_BIN="$PWD/build/cmd/geo-ssf" pg_virtualenv -t sh scripts/quickstart-steps.sh "$work"
