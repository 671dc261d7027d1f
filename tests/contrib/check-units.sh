#!/bin/sh
# systemd-analyze verify on contrib/systemd's units, with ExecStart= pointing at the built
# binary (verify requires an executable there). Fails without systemd-analyze: a test never
# skips.
#   check-units.sh SOURCE-ROOT GEO-SSF-BINARY
set -eu
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in "$1"/contrib/systemd/*.service.in "$1"/contrib/systemd/*.timer; do
    name=$(basename "$unit" .in)
    sed "s|@BINDIR@/geo-ssf|$2|" "$unit" >"$work/$name"
done
cd "$work"
# verify exits 0 on unknown keys and bad values it ignores, with a warning on stderr: any
# output at all is a failure.
if ! out=$(systemd-analyze verify --man=no ./*.service ./*.timer 2>&1) || [ -n "$out" ]; then
    echo "$out"
    exit 1
fi
echo "ok: $(ls | tr '\n' ' ')"
