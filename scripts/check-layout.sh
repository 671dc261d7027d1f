#!/bin/sh
# Checks the rules that keep lib/'s rooms apart (README, "Layout"): primary/ and secondary/ never
# include each other, db/ and repo/ never include each other, run/ includes neither role, and
# cmd/ runs no SQL (no transaction, no statement). Prints each breach; exit status 1 if there is one.
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
[ "$status" -eq 0 ] && echo "layout: ok"
exit $status
