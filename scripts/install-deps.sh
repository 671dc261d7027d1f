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
    doctest-dev nlohmann-json3-dev libkainjow-mustache-dev libssl-dev \
    postgresql postgresql-common git scdoc ca-certificates >/dev/null
