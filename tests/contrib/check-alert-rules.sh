#!/bin/sh
# promtool on contrib/prometheus: the rules' syntax (check rules) and their behaviour on
# series named as geo-ssf status writes them (test rules). Fails without promtool: a test
# never skips.
#   check-alert-rules.sh SOURCE-ROOT
set -eu
command -v promtool >/dev/null || { echo "promtool not installed (scripts/install-deps.sh installs it)"; exit 1; }
cd "$1/contrib/prometheus"
promtool check rules geo-ssf-alerts.yml
promtool test rules geo-ssf-alerts.test.yml
