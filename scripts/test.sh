#!/bin/sh
# Builds geo-ssf and runs every test against a throwaway PostgreSQL (pg_virtualenv): once in a
# normal build and once under AddressSanitizer and UndefinedBehaviorSanitizer.
#   scripts/test.sh            install packages, both builds, all tests
#   scripts/test.sh --quick    no package install, normal build only
set -eu
cd "$(dirname "$0")/.."
quick=no
[ "${1:-}" = "--quick" ] && quick=yes
[ "$quick" = yes ] || scripts/install-deps.sh

run_suite() {  # build-dir, meson options...
    dir=$1
    shift
    if [ ! -d "$dir" ]; then
        meson setup "$dir" "$@" >/dev/null
    fi
    ninja -C "$dir" >"$dir/build-output.txt" 2>&1 || {
        cat "$dir/build-output.txt"
        echo "$dir: build failed"
        return 1
    }
    # pg_virtualenv sets the PG* variables the tests use; -t keeps its cluster in a temporary
    # folder even as root, so that several runs on one machine do not collide.
    pg_virtualenv -t sh -c "meson test -C '$dir' --print-errorlogs --no-rebuild" >"$dir/test-output.txt" 2>&1 || {
        cat "$dir/test-output.txt"
        return 1
    }
    grep -h '^\[doctest\] test cases:' "$dir"/meson-logs/testlog.txt >>"$summary"
    echo "$dir: ok"
}

# The tests make thousands of small files; a memory file system keeps that quick.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
status=0
run_suite build || status=1
if [ "$quick" = no ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    # GCC 12 reports a false maybe-uninitialized inside libstdc++'s <regex> only when the
    # sanitizers are on; the normal build keeps that warning.
    run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false \
        -Dcpp_args=-Wno-maybe-uninitialized || status=1
fi
passed=$(awk -F'|' '{gsub(/[^0-9]/, "", $2); p += $2} END {print p + 0}' "$summary")
failed=$(awk -F'|' '{gsub(/[^0-9]/, "", $3); f += $3} END {print f + 0}' "$summary")
[ "$status" -eq 0 ] || failed=$((failed > 0 ? failed : 1))
echo "tests: $passed passed, $failed failed"
exit $status
