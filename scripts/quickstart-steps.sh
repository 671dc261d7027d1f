#!/bin/sh
# The quickstart's steps, run by scripts/quickstart.sh inside pg_virtualenv (which sets the
# PG* variables). Each command is printed before it runs.
set -eu
work=$1
cd "$work"
# Each command is printed as a user would type it: geo-ssf is found on PATH.
PATH="$(dirname "$GEO_SSF_BIN"):$PATH"
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
sql() { printf '$ psql %s -c "%s"\n' "$1" "$2"; psql -X -q -d "$1" -c "$2"; }
# Git reads none of this machine's configuration, nor the home of whoever runs this.
mkdir -p "$work/home"
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=Quickstart GIT_AUTHOR_EMAIL=quickstart@example.com
export GIT_COMMITTER_NAME=Quickstart GIT_COMMITTER_EMAIL=quickstart@example.com

step "A primary site: its main database and storage root"
createdb app
mkdir -p primary/repositories
cat > primary/geo-ssf.yml <<'YAML'
site: {name: primary, role: primary}
databases: {main: "dbname=app"}
storage: {root: repositories}
YAML
run cat primary/geo-ssf.yml

step "The application's model table, then a replicable type over it (generate reads the table)"
sql app "CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text NOT NULL)"
run geo-ssf -c primary/geo-ssf.yml generate replicable CoolWidget
run cat primary/replicables/cool_widget.yml

step "geo-ssf's migrations"
run geo-ssf -c primary/geo-ssf.yml migrate
run geo-ssf -c primary/geo-ssf.yml check

step "Three records, each with a repository"
for i in 1 2 3; do
    git init -q --bare "primary/repositories/cool_widgets/$i.git"
    git clone -q "primary/repositories/cool_widgets/$i.git" "checkout-$i" 2>/dev/null
    echo "widget $i" > "checkout-$i/README"
    git -C "checkout-$i" add README
    git -C "checkout-$i" commit -q -m "widget $i"
    git -C "checkout-$i" push -q origin HEAD
done
sql app "INSERT INTO cool_widgets (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')"
run geo-ssf -c primary/geo-ssf.yml event cool_widget created 1 2 3

step "Checksum every repository and record the results"
run geo-ssf -c primary/geo-ssf.yml verify
run geo-ssf checksum primary/repositories/cool_widgets/1.git primary/repositories/cool_widgets/2.git primary/repositories/cool_widgets/3.git
sql app "SELECT cool_widget_id, verification_state, encode(verification_checksum, 'hex') AS checksum FROM cool_widget_states ORDER BY 1"

step "A push to widget 2: the hook publishes 'updated', the next verify re-checksums it"
echo "more" >> checkout-2/README
git -C checkout-2 commit -q -am "more"
git -C checkout-2 push -q origin HEAD
run geo-ssf -c primary/geo-ssf.yml event cool_widget updated 2
run geo-ssf -c primary/geo-ssf.yml verify
sql app "SELECT id, event_name, payload FROM geo_events ORDER BY id"

step "A secondary site: its own tracking database and storage, reading the primary's main database"
createdb app_geo
sql app "CREATE ROLE geo_reader LOGIN PASSWORD 'reader'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO geo_reader"
mkdir -p secondary/repositories
cat > secondary/geo-ssf.yml <<YAML
site: {name: secondary, role: secondary}
databases:
  main: "dbname=app user=geo_reader password=reader"   # read-only: SELECT is all it may do
  geo: "dbname=app_geo"
storage:
  root: repositories
  primary_url: "file://$work/primary/repositories"
replicables: ../primary/replicables   # the same type definitions and migrations as the primary
migrations: ../primary/migrations
YAML
run cat secondary/geo-ssf.yml
run geo-ssf -c secondary/geo-ssf.yml migrate
run geo-ssf -c secondary/geo-ssf.yml check

step "The secondary mirrors every repository, then proves each copy against the primary's checksum"
run geo-ssf -c secondary/geo-ssf.yml sync
run geo-ssf -c secondary/geo-ssf.yml verify
sql app_geo "SELECT cool_widget_id, state, verification_state, encode(verification_checksum, 'hex') AS checksum FROM cool_widget_registry ORDER BY 1"

step "Another push on the primary reaches the secondary through the event log"
echo "even more" >> checkout-3/README
git -C checkout-3 commit -q -am "even more"
git -C checkout-3 push -q origin HEAD
run geo-ssf -c primary/geo-ssf.yml event cool_widget updated 3
run geo-ssf -c primary/geo-ssf.yml verify
run geo-ssf -c secondary/geo-ssf.yml sync
run geo-ssf -c secondary/geo-ssf.yml verify
run git -C secondary/repositories/cool_widgets/3.git log --oneline

step "What an admin and a monitoring system see"
run geo-ssf -c primary/geo-ssf.yml status
run geo-ssf -c secondary/geo-ssf.yml status
run geo-ssf -c secondary/geo-ssf.yml status --format prometheus --output secondary/geo-ssf.prom
run cat secondary/geo-ssf.prom
run geo-ssf -c secondary/geo-ssf.yml list cool_widget --verification-state succeeded
run geo-ssf -c secondary/geo-ssf.yml show cool_widget 3

step "Done: every copy on the secondary matches the primary"
test "$(psql -X -Atc 'SELECT count(*) FROM cool_widget_registry WHERE state = 2 AND verification_state = 2' app_geo)" = 3
test "$(git -C secondary/repositories/cool_widgets/3.git rev-parse HEAD)" = "$(git -C primary/repositories/cool_widgets/3.git rev-parse HEAD)"
echo "quickstart: ok"
