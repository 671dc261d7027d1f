#!/bin/sh
# Installs everything geo-ssf needs to build, test and run its quickstart on Debian 12.
set -eu
if [ "$(id -u)" -ne 0 ]; then
    exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential meson ninja-build pkg-config \
    libcli11-dev libpqxx-dev libgit2-dev libyaml-cpp-dev libspdlog-dev libfmt-dev \
    doctest-dev nlohmann-json3-dev libkainjow-mustache-dev libssl-dev liburiparser-dev \
    postgresql postgresql-common git scdoc ca-certificates systemd \
    openssh-server openssh-client lighttpd lighttpd-mod-openssl openssl man-db >/dev/null
# (systemd for systemd-analyze, which checks contrib/'s units in the contrib-units test;
# sshd, lighttpd, openssl and git's git daemon for the servers of the transports tests; man for
# geo-ssf help. The standby tests use postgresql's pg_basebackup and pg_ctl, and util-linux's
# runuser, which Debian always has.)

# promtool checks and tests contrib/'s alerting rules (the contrib-alert-rules test). It comes
# from Debian's prometheus package, unpacked rather than installed: installing it would also
# install a Prometheus server (96 MB) and start it.
if ! command -v promtool >/dev/null; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null &&
        dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool)
    install -m 755 "$tmp/usr/bin/promtool" /usr/local/bin/promtool
    rm -rf "$tmp"
fi
