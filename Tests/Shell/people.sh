#!/usr/bin/env bash
# The commands for people (twospeed list, show, recommendations, history, diff, observe, delete, metrics,
# and assess of a held portfolio) on a store file, as a user types them: no JSON typed by hand. In a pipe
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
    '$TS' list teams --db '$TWOSPEED_DB_FILE' > '$TMP/e' && ! grep -q \$'\x1b' '$TMP/e' && grep -qF 'x\\e]0;owned' '$TMP/e'"
check "delete an entity: removed, new revision printed" bash -c "
    '$TS' delete team evil --db '$TWOSPEED_DB_FILE' | grep -q '^deleted team evil (revision [0-9]*)' &&
    ! '$TS' list teams --db '$TWOSPEED_DB_FILE' | grep -q '^evil'"
# twospeed metrics: the four keys without JSON. Unknown is not zero: before any event, no row at all.
check "metrics before any event: no row, exit 0" bash -c "
    '$TS' metrics --db '$TWOSPEED_DB_FILE' > '$TMP/m0' && [ ! -s '$TMP/m0' ]"
# The web checkout: 4 deployments in March, one of them (d3) caused a 96-hour incident (25%, 96 h);
# the ERP: 5 deployments, one failed, a 12-hour incident (20%, 12 h).
for i in 1 2 3 4; do echo "{\"id\":\"wc-$i\",\"system\":\"web-checkout\",\"time\":\"2026-03-0$((i + 1))T10:00:00Z\",\"changes\":[{\"id\":\"c$i\",\"committed\":\"2026-03-0$((i + 1))T08:00:00Z\"}]}"; done > "$TMP/deploys.jsonl"
for i in 1 2 3 4 5; do echo "{\"id\":\"erp-$i\",\"system\":\"erp\",\"time\":\"2026-03-1${i}T10:00:00Z\",\"failed\":$([ $i = 1 ] && echo true || echo false)}"; done >> "$TMP/deploys.jsonl"
printf 'id,system,started,resolved,cause\ni1,web-checkout,2026-03-10T00:00:00Z,2026-03-14T00:00:00Z,wc-3\ni2,erp,2026-03-20T00:00:00Z,2026-03-20T12:00:00Z,\n' > "$TMP/incidents.csv"
ts import --from deployments --portfolio retailer "$TMP/deploys.jsonl" >/dev/null 2>&1
ts import --from incidents --portfolio retailer "$TMP/incidents.csv" >/dev/null 2>&1
check "metrics: a row per system of the window, the keys and their labels, tab-separated" bash -c "
    '$TS' metrics --until 2026-04-01 --days 30 --db '$TWOSPEED_DB_FILE' > '$TMP/m' && [ \$(wc -l < '$TMP/m') = 2 ] &&
    grep -qx '2026-03-02..2026-04-01	web-checkout	4	4.06	2	25%	96	elite	high' '$TMP/m' &&
    grep -qx '2026-03-02..2026-04-01	erp	5	4.06	-	20%	12	high	high' '$TMP/m'"
# (jq -S: the engine writes the members of a figure's buckets in no fixed order.)
check "metrics --json is delivery.metrics' result" bash -c "
    diff <('$TS' metrics --until 2026-04-01 --days 30 --json --compact --db '$TWOSPEED_DB_FILE' | jq -S .) \
         <('$TS' call --compact --db '$TWOSPEED_DB_FILE' delivery.metrics '{\"portfolio\":\"retailer\",\"until\":\"2026-04-01\",\"days\":30}' | jq -S .)"
check "metrics on a terminal: a header, and the note of a label that disagrees with its keys" bash -c "
    script -qec \"'$TS' metrics --until 2026-04-01 --days 30 --system web-checkout --db '$TWOSPEED_DB_FILE'\" /dev/null > '$TMP/mt' &&
    head -1 '$TMP/mt' | grep -q '^WINDOW  *SYSTEM  *DEPLOYMENTS' &&
    grep -q '^note: 2026-03-02..2026-04-01 web-checkout: stability labelled high, .* though key by key it is low' '$TMP/mt' &&
    ! grep -q '	erp	\|  erp  ' '$TMP/mt'"
check "metrics --windows: newest first; a system with events has 0 deployments in an older window, no lead time" bash -c "
    '$TS' metrics --until 2026-04-01 --days 30 --windows 3 --db '$TWOSPEED_DB_FILE' > '$TMP/mw' && [ \$(wc -l < '$TMP/mw') = 6 ] &&
    [ \"\$(cut -f1 '$TMP/mw' | uniq)\" = \"\$(printf '2026-03-02..2026-04-01\n2026-01-31..2026-03-02\n2026-01-01..2026-01-31')\" ] &&
    grep -qx '2026-01-01..2026-01-31	web-checkout	0	0	-	-	-	low	-' '$TMP/mw'"
check "metrics: a system the portfolio does not have is the engine's not-found (exit 1)" bash -c "
    '$TS' metrics --system nope --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 1 ] && jq -e '.code == -32000 and .data.pointer == \"/system\"' '$TMP/err'"
check "metrics: --days 0 and a bad --until are refused" bash -c "
    '$TS' metrics --days 0 --db '$TWOSPEED_DB_FILE' 2>/dev/null; [ \$? = 2 ] &&
    '$TS' metrics --until yesterday --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 1 ] && jq -e '.data.pointer == \"/until\"' '$TMP/err'"
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
