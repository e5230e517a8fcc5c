#!/usr/bin/env bash
# The commands for people (twospeed list, show, recommendations, history, diff, observe, delete, and
# assess of a held portfolio) on a store file, as a user types them: no JSON typed by hand. In a pipe
# they print tab-separated rows; on a terminal (script(1) gives them one) a table with a header.
set -u
cd "$(dirname "$0")/../.."
BUILD=${TWOSPEED_BUILD:-$PWD/build}
TS=$BUILD/bin/twospeed
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=Tests/Shell/check.sh
. Tests/Shell/check.sh
export TWOSPEED_DB_FILE=$TMP/store.db
ts() { "$TS" "$@" --db "$TWOSPEED_DB_FILE"; }
unset TWOSPEED_PORTFOLIO TWOSPEED_SOCKET

check "no portfolio yet: a clear usage error (exit 2)" bash -c "
    '$TS' list products --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 2 ] && grep -q 'holds no portfolio' '$TMP/err'"
ts call portfolio.put "{\"portfolio\": $(cat examples/portfolios/retailer.json)}" >/dev/null
check "list portfolios: one row, tab-separated" bash -c "
    [ \"\$('$TS' list portfolios --db '$TWOSPEED_DB_FILE')\" = \"\$(printf 'retailer\tBrightmart Retail\t1\t')\$('$TS' call --db '$TWOSPEED_DB_FILE' --compact portfolio.list | jq -r '.portfolios[0].updated')\" ]"
check "list products (the only portfolio by default): id, name, status, owner, team, stages" bash -c "
    '$TS' list products --db '$TWOSPEED_DB_FILE' > '$TMP/p' && [ \$(wc -l < '$TMP/p') = 5 ] &&
    grep -qx 'checkout	Online checkout	rollout	pm-checkout	team-checkout	1' '$TMP/p' &&
    grep -qx 'store-locator	Store locator app	live	-	-	1' '$TMP/p'"
check "list: singular kinds too, and cut works on the rows" bash -c "
    '$TS' list system --db '$TWOSPEED_DB_FILE' | cut -f1 | grep -qx web-checkout"
check "list on a terminal: a header and aligned columns" bash -c "
    script -qec \"'$TS' list products --db '$TWOSPEED_DB_FILE'\" /dev/null > '$TMP/t' &&
    head -1 '$TMP/t' | grep -q '^ID  *NAME  *STATUS  *OWNER  *TEAM  *STAGES' && grep -q '^checkout  *Online checkout  *rollout ' '$TMP/t'"
check "list --json is the engine's entity.list result" bash -c "
    diff <('$TS' list products --json --compact --db '$TWOSPEED_DB_FILE') <('$TS' call --compact --db '$TWOSPEED_DB_FILE' entity.list '{\"portfolio\":\"retailer\",\"kind\":\"product\"}')"
check "list: an unknown kind is wrong usage" bash -c "'$TS' list widgets --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 2 ] && grep -q 'no kind widgets' '$TMP/err'"
check "show product: one member a line, nested ones dotted" bash -c "
    '$TS' show product checkout --db '$TWOSPEED_DB_FILE' > '$TMP/s' && grep -qx 'owner: pm-checkout' '$TMP/s' &&
    grep -qx 'systems: web-checkout, payment-api, order-service' '$TMP/s' && grep -qx 'rice.reach: 180000' '$TMP/s'"
check "show journey: its stages one line each" bash -c "
    '$TS' show journeys online-shopping --db '$TWOSPEED_DB_FILE' | grep -q '^  - id=checkout name=Checkout'"
check "show: an unknown id is the engine's not-found error (exit 1, pointer /id)" bash -c "
    '$TS' show product nope --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 1 ] && jq -e '.code == -32000 and .data.pointer == \"/id\"' '$TMP/err'"
check "recommendations before any kept run: the engine says so (exit 1)" bash -c "
    '$TS' recommendations --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 1 ] && grep -q 'no kept run' '$TMP/err'"
check "assess without FILE keeps a run of the held portfolio" bash -c "
    '$TS' assess --db '$TWOSPEED_DB_FILE' | grep -q 'Brightmart Retail stands at level' &&
    '$TS' call --db '$TWOSPEED_DB_FILE' --compact assessment.history '{\"portfolio\":\"retailer\"}' | jq -e '.runs | length == 1'"
check "assess --no-keep keeps nothing" bash -c "
    '$TS' assess --no-keep --json --db '$TWOSPEED_DB_FILE' | jq -e '.overall.score' >/dev/null &&
    '$TS' call --db '$TWOSPEED_DB_FILE' --compact assessment.history '{\"portfolio\":\"retailer\"}' | jq -e '.runs | length == 1'"
check "recommendations: the latest kept run's, in rank order, as assessment.get has them" bash -c "
    '$TS' recommendations --db '$TWOSPEED_DB_FILE' > '$TMP/r' &&
    diff <(cut -f1,4 '$TMP/r') <('$TS' call --db '$TWOSPEED_DB_FILE' --compact assessment.get '{\"portfolio\":\"retailer\",\"run\":1}' |
                                  jq -r '.recommendations[] | [.rank, .title] | @tsv')"
check "observe records a value with its date and source, without JSON" bash -c "
    '$TS' observe front-page-conversion 2.6 --at 2026-11-30 --source 'web analytics' --db '$TWOSPEED_DB_FILE' |
        grep -qx 'front-page-conversion: 3 observations (revision 2)' &&
    '$TS' call --db '$TWOSPEED_DB_FILE' --compact entity.get '{\"portfolio\":\"retailer\",\"kind\":\"metric\",\"id\":\"front-page-conversion\"}' |
        jq -e '.entity.observations[-1] == {at: \"2026-11-30\", value: 2.6, source: \"web analytics\"}'"
check "observe without --at is now, UTC" bash -c "
    '$TS' observe front-page-conversion 2.7 --db '$TWOSPEED_DB_FILE' >/dev/null &&
    '$TS' show metric front-page-conversion --json --db '$TWOSPEED_DB_FILE' | jq -e --arg d \"\$(date -u +%Y-%m-%d)\" '.entity.observations[-1].at | startswith(\$d)'"
check "observe: a value that is no number is wrong usage" bash -c "'$TS' observe front-page-conversion lots --db '$TWOSPEED_DB_FILE'; [ \$? = 2 ]"
ts assess >/dev/null
check "assessment.get without run is the latest kept run" bash -c "
    '$TS' call --db '$TWOSPEED_DB_FILE' --compact assessment.get '{\"portfolio\":\"retailer\"}' | jq -e '.run == 2'"
check "history: one row per kept run, run, made, as of, model, overall" bash -c "
    '$TS' history --db '$TWOSPEED_DB_FILE' > '$TMP/h' && [ \$(wc -l < '$TMP/h') = 2 ] &&
    awk -F'\t' 'NR == 2 && \$1 == 2 && \$4 == \"twospeed-default\" && \$5 ~ /^[1-5](\.[0-9]+)?\$/ {ok=1} END {exit !ok}' '$TMP/h'"
check "diff: the last two runs, the overall first, then each dimension" bash -c "
    '$TS' diff --db '$TWOSPEED_DB_FILE' > '$TMP/d' && head -1 '$TMP/d' | grep -q '^overall	' && grep -q '^culture	' '$TMP/d'"
check "diff A B is assessment.history's change of those runs" bash -c "
    diff <('$TS' diff 1 2 --json --compact --db '$TWOSPEED_DB_FILE') \
         <('$TS' call --db '$TWOSPEED_DB_FILE' --compact assessment.history '{\"portfolio\":\"retailer\",\"compare\":[1,2]}' | jq -c .change)"
check "diff with one run is wrong usage" bash -c "'$TS' diff 1 --db '$TWOSPEED_DB_FILE'; [ \$? = 2 ]"
check "names with control characters print escaped, never as terminal sequences" bash -c "
    '$TS' call --db '$TWOSPEED_DB_FILE' entity.upsert '{\"portfolio\":\"retailer\",\"kind\":\"team\",\"entity\":{\"id\":\"evil\",\"name\":\"x\u001b]0;owned\u0007\u001b[2Jy\",\"size\":3}}' >/dev/null &&
    '$TS' list teams --db '$TWOSPEED_DB_FILE' > '$TMP/e' && ! grep -q \$'\x1b' '$TMP/e' && grep -q 'x\\\\u{1b}]0;owned' '$TMP/e'"
check "delete an entity: removed, new revision printed" bash -c "
    '$TS' delete team evil --db '$TWOSPEED_DB_FILE' | grep -q '^deleted team evil (revision [0-9]*)' &&
    ! '$TS' list teams --db '$TWOSPEED_DB_FILE' | grep -q '^evil'"
check "delete a portfolio asks for --yes, then deletes it" bash -c "
    '$TS' delete portfolio retailer --db '$TWOSPEED_DB_FILE' 2>/dev/null; [ \$? = 2 ] &&
    '$TS' delete portfolio retailer --yes --db '$TWOSPEED_DB_FILE' | grep -q '^deleted portfolio retailer' &&
    [ -z \"\$('$TS' list portfolios --db '$TWOSPEED_DB_FILE')\" ]"
ts call portfolio.put "{\"portfolio\": $(cat examples/portfolios/retailer.json)}" >/dev/null
ts call portfolio.put "{\"portfolio\": $(cat examples/portfolios/bank.json)}" >/dev/null
check "two portfolios: --portfolio is asked for, by name" bash -c "
    '$TS' list products --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 2 ] && grep -q 'holds 2 portfolios' '$TMP/err'"
check "TWOSPEED_PORTFOLIO chooses one, --portfolio another" bash -c "
    TWOSPEED_PORTFOLIO=retailer '$TS' list products --db '$TWOSPEED_DB_FILE' | grep -q '^checkout	' &&
    bank=\$(jq -r .id examples/portfolios/bank.json) &&
    TWOSPEED_PORTFOLIO=retailer '$TS' list products -p \"\$bank\" --db '$TWOSPEED_DB_FILE' > '$TMP/b' && ! grep -q '^checkout	' '$TMP/b' && [ -s '$TMP/b' ]"

# The README's block of everyday commands, as written, against a daemon holding the retailer.
awk '$0 == "```sh" {on=1; buf=""; next} on && $0 == "```" {if (buf ~ /twospeed list products/) {printf "%s", buf; exit} on=0; next} on {buf = buf $0 "\n"}' \
    README.md > "$TMP/everyday.sh"
"$BUILD/bin/twospeedd" --socket "$TMP/d.sock" --db "$TMP/d.sqlite" 2>"$TMP/d.log" &
DPID=$!
trap 'kill $DPID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 300); do "$TS" call --socket "$TMP/d.sock" engine.info >/dev/null 2>&1 && break; sleep 0.05; done
"$TS" call --socket "$TMP/d.sock" portfolio.put "{\"portfolio\": $(cat examples/portfolios/retailer.json)}" >/dev/null
check "README: the everyday commands run as written, no JSON typed" bash -c "
    grep -q 'twospeed recommendations' '$TMP/everyday.sh' &&
    sed 's|/tmp/twospeed.sock|$TMP/d.sock|' '$TMP/everyday.sh' | PATH='$BUILD/bin':\$PATH sh -e > '$TMP/everyday.out' 2>&1 &&
    grep -q '^checkout	Online checkout' '$TMP/everyday.out' && grep -q '^web-checkout\$' '$TMP/everyday.out' &&
    grep -q '^overall	' '$TMP/everyday.out' && grep -q '^deleted experiment lite-checkout' '$TMP/everyday.out'"

echo "people.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
