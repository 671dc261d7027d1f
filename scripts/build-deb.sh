#!/bin/sh
# Builds the Debian package from this checkout and checks it:
#   1. installs the build dependencies (debian/control) and lintian with apt;
#   2. builds the binary package (dpkg-buildpackage -b) from a copy of the tracked and new
#      files in a temporary folder, since dpkg-buildpackage writes its results beside the tree;
#   3. runs lintian on it (errors fail the script; warnings are printed);
#   4. unpacks it into a throwaway root (dpkg -x) and runs its geo-ssf there: --version, then
#      migrate and check on a site whose database is a throwaway PostgreSQL (pg_virtualenv).
# The .deb files are left in build-deb/.
#   scripts/build-deb.sh              all of it
#   scripts/build-deb.sh --no-install no apt (the build dependencies are already there)
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-install" ]; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends dpkg-dev debhelper lintian postgresql \
        postgresql-common >/dev/null
    $sudo apt-get build-dep -y -qq ./ >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/geo-ssf-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
version=$(dpkg-parsechangelog -S Version)
src="$work/geo-ssf-$version"
mkdir "$src"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$src"

start=$(date +%s)
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 || {
    tail -50 "$work/build.log"
    echo "build-deb: dpkg-buildpackage failed"
    exit 1
}
echo "build-deb: built in $(($(date +%s) - start)) s: $(cd "$work" && ls ./*.deb | tr '\n' ' ')"
rm -rf build-deb
mkdir build-deb
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo build-deb/
deb=$(ls build-deb/geo-ssf_"$version"_*.deb)

# lintian exits non-zero on errors only (by default); its warnings are shown, not fatal.
lintian --info "build-deb/"*.changes || {
    echo "build-deb: lintian found errors"
    exit 1
}

root="$work/root"
dpkg -x "$deb" "$root"
for file in usr/bin/geo-ssf usr/share/geo-ssf/templates usr/share/geo-ssf/migrations/main \
    usr/share/man/man1/geo-ssf.1.gz usr/share/man/man1/geo-ssf-sync.1.gz \
    lib/systemd/system/geo-ssf-follow.service \
    lib/systemd/system/geo-ssf-sync.service lib/systemd/system/geo-ssf-sync.timer \
    usr/share/geo-ssf/contrib/prometheus/geo-ssf-alerts.yml \
    usr/share/geo-ssf/contrib/grafana/geo-ssf-dashboard.json usr/share/geo-ssf/contrib/cron/geo-ssf; do
    [ -e "$root/$file" ] || { echo "build-deb: $file is not in the package"; exit 1; }
done
grep -q '^ExecStart=/usr/bin/geo-ssf ' "$root/lib/systemd/system/geo-ssf-sync.service" || {
    echo "build-deb: geo-ssf-sync.service does not run /usr/bin/geo-ssf"
    exit 1
}
"$root/usr/bin/geo-ssf" --version
# A primary on a throwaway database: the packaged migrations apply, and check passes (exit 0).
# The unpacked binary finds its data beside it, in $root/usr/share/geo-ssf.
site="$work/site"
mkdir -p "$site/repositories"
cat >"$site/geo-ssf.yml" <<YAML
site: {name: package-check, role: primary}
databases: {main: "dbname=geo_ssf_package_check"}
storage: {root: repositories}
YAML
cat >"$work/check.sh" <<SH
set -eu
createdb geo_ssf_package_check
"$root/usr/bin/geo-ssf" -c "$site/geo-ssf.yml" migrate
"$root/usr/bin/geo-ssf" -c "$site/geo-ssf.yml" check
SH
# pg_virtualenv runs as postgres when started by root; it must read and run the site.
chmod -R a+rX "$work"
TMPDIR="$work" pg_virtualenv -t sh "$work/check.sh" >"$work/check.log" 2>&1 || {
    grep -v '^....-..-.. ..:..:..\.... UTC \[' "$work/check.log"
    echo "build-deb: the packaged geo-ssf failed migrate or check"
    exit 1
}
grep -v '^....-..-.. ..:..:..\.... UTC \[' "$work/check.log"
echo "build-deb: ok: $deb"
