#!/bin/sh
# Builds geo-ssf and runs every test against a throwaway PostgreSQL (pg_virtualenv): once in a
# normal build and once under AddressSanitizer and UndefinedBehaviorSanitizer (a build of each
# source on its own, so that a missing #include fails here).
#   scripts/test.sh            install packages, both builds, all tests
#   scripts/test.sh --quick    no package install, normal build only
set -eu
cd "$(dirname "$0")/.."
quick=no
[ "${1:-}" = "--quick" ] && quick=yes
[ "$quick" = yes ] || scripts/install-deps.sh

build_dir() {  # build-dir, meson options...
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
}

test_dir() {  # build-dir
    dir=$1
    # pg_virtualenv sets the PG* variables the tests use; -t keeps its cluster in a temporary
    # folder even as root, so that several runs on one machine do not collide.
    # Four at a time on any machine: the integration suites mostly wait.
    pg_virtualenv -t sh -c "meson test -C '$dir' --num-processes 4 --print-errorlogs --no-rebuild" >"$dir/test-output.txt" 2>&1 || {
        # Without the server log pg_virtualenv prints on failure; then every failed check.
        grep -v '^....-..-.. ..:..:..\.... UTC \[' "$dir/test-output.txt"
        echo "$dir: failed checks (all of them are in $dir/meson-logs/testlog.txt):"
        grep -E -A3 '^TEST CASE:|: (ERROR|FATAL ERROR): ' "$dir/meson-logs/testlog.txt" | head -200
        return 1
    }
    grep -h '^\[doctest\] test cases:' "$dir"/meson-logs/testlog.txt >>"$summary"
    echo "$dir: ok"
}

# The tests make thousands of small files; a memory file system keeps that quick. Some run
# geo-ssf as nobody, so the folder must be one every user may write in (sticky, as /tmp).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -k /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
status=0
# CLI11, libpqxx, spdlog and doctest are mostly headers, compiled again in every translation
# unit; compiling ten source files as one makes a fresh build several times faster.
unity="-Dunity=on -Dunity_size=10"
# Warnings are errors here, not in meson.build: a packager's compiler may warn where ours does not.
# The normal build is optimized like a release, without debug information (a third of the
# compile time); it also compiles the benchmarks, so that they keep building.
build_dir build $unity -Dwerror=true -Ddebug=false || status=1
if [ "$status" -eq 0 ]; then
    ninja -C build benchmarks >build/bench-build-output.txt 2>&1 || {
        cat build/bench-build-output.txt
        echo "build: benchmarks failed to build"
        status=1
    }
fi
sanitize_build=none
if [ "$quick" = no ] && [ "$status" -eq 0 ]; then
    # The sanitizer build compiles each source on its own (no unity), so that a file that uses
    # what it does not include fails here, as it would in a user's `meson setup build`. It
    # compiles while the normal build's tests run, which mostly wait on git and PostgreSQL;
    # at a lower priority, so that the tests keep the processor they need.
    # The sanitizer options are in tests/meson.build. With the sanitizers on, -O1 compiles
    # more than twice as slowly as -O0, for tests that mostly wait on git and PostgreSQL;
    # -g1 keeps the file and line of each frame of a report. The tests start geo-ssf thousands
    # of times, and each start of a sanitized binary pays for its size: linked as a
    # position-independent executable it would first relocate millions of pointers to the
    # checks' data, so -no-pie; and ASan's guard around every global (each string literal is
    # one) would make that data four times as large, so asan-globals=0 (UBSan still checks the
    # index into a global array). Together they take a start from 180 ms to 55 ms.
    (
        renice -n 10 -p "$(exec sh -c 'echo $PPID')" >/dev/null
        build_dir build-sanitize -Dunity=off -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
            -Doptimization=0 -Ddebug=false "-Dcpp_args=-g1 --param=asan-globals=0" -Dcpp_link_args=-no-pie
    ) &
    sanitize_build=$!
fi
[ "$status" -ne 0 ] || test_dir build || status=1
if [ "$sanitize_build" != none ]; then
    if wait "$sanitize_build"; then
        [ "$status" -ne 0 ] || test_dir build-sanitize || status=1
    else
        status=1
    fi
fi
passed=$(awk -F'|' '{gsub(/[^0-9]/, "", $2); p += $2} END {print p + 0}' "$summary")
failed=$(awk -F'|' '{gsub(/[^0-9]/, "", $3); f += $3} END {print f + 0}' "$summary")
[ "$status" -eq 0 ] || failed=$((failed > 0 ? failed : 1))
echo "tests: $passed passed, $failed failed"
exit $status
