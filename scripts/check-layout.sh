#!/bin/sh
# Checks the rules that keep lib/'s rooms apart (README, "Layout"): primary/ and secondary/ never
# include each other, db/ and repo/ never include each other, run/ includes neither role, cmd/
# runs no SQL (no transaction, no statement), SQL statements are in lib/db/ alone, and state values
# in SQL come from the enums. Prints each breach; exit status 1 if there is one.
cd "$(dirname "$0")/.." || exit 2
status=0
forbid() {  # folder, included folder
    hits=$(grep -n "#include \"$2/" lib/"$1"/*.hpp lib/"$1"/*.cpp 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "lib/$1 must not include lib/$2:"
        echo "$hits"
        status=1
    fi
}
forbid primary secondary
forbid secondary primary
forbid db repo
forbid repo db
forbid run primary
forbid run secondary
for low in common site; do
    for high in db repo run primary secondary report scaffold; do
        forbid "$low" "$high"
    done
done
sql=$(grep -nE 'pqxx::(connection|work|read_transaction|nontransaction|transaction)|\.exec(_params)?1?\(' cmd/*.cpp cmd/*.hpp)
if [ -n "$sql" ]; then
    echo "cmd/ must not hold SQL:"
    echo "$sql"
    status=1
fi
# SQL lives in lib/db/ alone: every other folder calls db/ functions named for what they read or
# write. Aside: the migration runner, which applies files, and the session settings of a new
# connection.
statements='(\.|->)exec(_params)?1?\('
sql=$(grep -nE "$statements" lib/*/*.hpp lib/*/*.cpp | grep -v '^lib/db/' | grep -v '^lib/site/migrations\.cpp:' |
    grep -vE '^lib/site/database\.cpp:[0-9]+: *setup\.exec\("SET ')
if [ -n "$sql" ]; then
    echo "SQL statements belong in lib/db/:"
    echo "$sql"
    status=1
fi
# State values in SQL come from the enums of db/states.hpp (sql::value, db/transitions.hpp).
literal=$(grep -nE '"[^"]*\b(state|verification_state) *(=|<>|!=|IN) *\(?[0-9]' lib/*/*.cpp lib/*/*.hpp)
if [ -n "$literal" ]; then
    echo "state values in SQL must come from the enums (sql::value):"
    echo "$literal"
    status=1
fi
[ "$status" -eq 0 ] && echo "layout: ok"
exit $status
