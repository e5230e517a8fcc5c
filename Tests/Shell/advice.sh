#!/usr/bin/env bash
# twospeed advice and twospeed campaign on a store file, as a user types them (issue 23): on the bundled
# retailer, fixing what the first recommendation names and assessing again shows it resolved in the
# advice history, the others still open, and a campaign's progress moving; dismissals, outcomes, errors.
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

ts call portfolio.put "{\"portfolio\": $(cat examples/portfolios/retailer.json)}" >/dev/null
check "advice history before any kept run: no rows" bash -c "[ -z \"\$('$TS' advice history --db '$TWOSPEED_DB_FILE')\" ]"
ts assess >/dev/null
FIRST=$(ts recommendations --json --compact | jq -r '.[0].key')
check "the first recommendation has a key of its rule and subject" bash -c "[[ '$FIRST' == looking-outside-for-speed:store-locator:* ]]"
check "advice history: one open row per recommendation, tab-separated" bash -c "
    '$TS' advice history --db '$TWOSPEED_DB_FILE' > '$TMP/h' && [ \$(wc -l < '$TMP/h') = \$('$TS' recommendations --db '$TWOSPEED_DB_FILE' | wc -l) ] &&
    grep -q \"^$FIRST	open	1	1	1:open	Fix: Looking outside for speed\$\" '$TMP/h'"
check "campaign put with options, then list: 0 of 2 resolved" bash -c "
    '$TS' campaign put integrate --name 'Integrate what we bought' --owner pm-front --pitfall looking-outside-for-speed \
        --pitfall roadmap-without-a-problem --start 2000-01-01 --target 2099-12-31 --db '$TWOSPEED_DB_FILE' | grep -qx 'created campaign integrate, revision 1' &&
    '$TS' campaign list --db '$TWOSPEED_DB_FILE' | grep -qx 'integrate	Integrate what we bought	pm-front	in-progress	0/2	0	2099-12-31'"

# The fix: the store locator gets an internal owner and an interface to the back end.
ts call entity.upsert "{\"portfolio\":\"retailer\",\"kind\":\"product\",\"entity\":$(ts call --compact entity.get '{"portfolio":"retailer","kind":"product","id":"store-locator"}' | jq -c '.entity + {owner: "pm-front"}')}" >/dev/null
ts call entity.upsert "{\"portfolio\":\"retailer\",\"kind\":\"system\",\"entity\":$(ts call --compact entity.get '{"portfolio":"retailer","kind":"system","id":"locator-app"}' | jq -c '.entity + {interfaces: [{to: "order-service", kind: "api"}]}')}" >/dev/null
ts assess >/dev/null
check "after the fix: the first advice resolved, every other still open" bash -c "
    '$TS' advice history --db '$TWOSPEED_DB_FILE' > '$TMP/h' && grep -q \"^$FIRST	resolved	1	1	1:open,2:resolved	\" '$TMP/h' &&
    [ \$(grep -c '	open	1	2	1:open,2:open	' '$TMP/h') = \$((\$(wc -l < '$TMP/h') - 1)) ]"
check "the campaign moved: 1 of 2 resolved" bash -c "
    '$TS' campaign list --db '$TWOSPEED_DB_FILE' | grep -qx 'integrate	Integrate what we bought	pm-front	in-progress	1/2	0.5	2099-12-31' &&
    '$TS' campaign show integrate --db '$TWOSPEED_DB_FILE' | grep -qx 'run 2: 1/2 resolved'"
check "report --portfolio: Advice and outcomes in text and Markdown, the resolved advice and the campaign's progress" bash -c "
    '$TS' report --portfolio retailer --format text --db '$TWOSPEED_DB_FILE' > '$TMP/r.txt' && grep -qx 'Advice and outcomes' '$TMP/r.txt' &&
    grep -qx '    key $FIRST' '$TMP/r.txt' && grep -qx '    given run 1 to run 1; resolved at run 2' '$TMP/r.txt' &&
    grep -q 'An association, not a cause.' '$TMP/r.txt' && grep -q 'in-progress, 1 of 2 resolved (50%)' '$TMP/r.txt' &&
    '$TS' report --portfolio retailer -o '$TMP/r.md' --db '$TWOSPEED_DB_FILE' && grep -qx '## Advice and outcomes' '$TMP/r.md' &&
    grep -qF '| resolved | run 1 | run 1 | resolved at run 2 |' '$TMP/r.md' && grep -qF '**in-progress**, 1 of 2 resolved (50%).' '$TMP/r.md'"
check "report --run 1: the advice as it stood at run 1 (open, no later resolution), not today's" bash -c "
    '$TS' report --portfolio retailer --run 1 --format text --db '$TWOSPEED_DB_FILE' > '$TMP/r1.txt' && grep -qx 'Advice and outcomes' '$TMP/r1.txt' &&
    grep -qx '    key $FIRST' '$TMP/r1.txt' && ! grep -q 'resolved at run 2' '$TMP/r1.txt' && grep -q '0 resolved (acted on)' '$TMP/r1.txt' &&
    grep -q 'burn-up (resolved/in scope): run 1 0/2\$' '$TMP/r1.txt'"
ROADMAP=$(ts advice history --json --compact | jq -r '.advice[] | select(.rule == "roadmap-without-a-problem") | .key')
check "dismiss: the advice leaves the campaign's denominator and says so" bash -c "
    '$TS' advice dismiss '$ROADMAP' --reason 'the competitor feature is the point' --db '$TWOSPEED_DB_FILE' | grep -q '^dismissed .* (by unknown at ' &&
    '$TS' campaign show integrate --db '$TWOSPEED_DB_FILE' | grep -q '^note: 1 dismissed piece of advice in scope left out of the denominator' &&
    '$TS' campaign list --db '$TWOSPEED_DB_FILE' | grep -q '	done	1/1	1	'"
check "reopen undoes it" bash -c "
    '$TS' advice reopen '$ROADMAP' --db '$TWOSPEED_DB_FILE' | grep -qx 'reopened $ROADMAP' &&
    '$TS' campaign list --db '$TWOSPEED_DB_FILE' | grep -q '	in-progress	1/2	'"
check "outcomes of the resolved advice: two runs are insufficient data" bash -c "
    '$TS' advice outcomes --db '$TWOSPEED_DB_FILE' | grep -q \"^$FIRST	2	dimension:architecture	dimension score	insufficient data	-	-	-	-	-\$\""
check "advice history --json is the engine's recommendation.history" bash -c "
    diff <('$TS' advice history --json --compact --db '$TWOSPEED_DB_FILE') <('$TS' call --compact --db '$TWOSPEED_DB_FILE' recommendation.history '{\"portfolio\":\"retailer\"}')"
check "dismiss an unknown key: the engine's not-found error (exit 1, pointer /key)" bash -c "
    '$TS' advice dismiss nope --reason x --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 1 ] && jq -e '.code == -32000 and .data.pointer == \"/key\"' '$TMP/err'"
check "dismiss without a reason is wrong usage (exit 2)" bash -c "'$TS' advice dismiss '$FIRST' --db '$TWOSPEED_DB_FILE' 2>/dev/null; [ \$? = 2 ]"
check "campaign put with a bad owner: exit 1, pointer /campaign/owner" bash -c "
    '$TS' campaign put x --name X --owner nobody --pitfall request-takers --start 2026-01-01 --target 2026-02-01 --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'
    [ \$? = 1 ] && jq -e '.data.pointer == \"/campaign/owner\"' '$TMP/err'"
check "campaign put --if-revision 0 on an existing one: revision mismatch (exit 1)" bash -c "
    '$TS' campaign put integrate --name I --owner pm-front --pitfall request-takers --start 2026-01-01 --target 2026-02-01 --if-revision 0 --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'
    [ \$? = 1 ] && jq -e '.code == -32005' '$TMP/err'"
check "campaign delete, then show: not found" bash -c "
    '$TS' campaign delete integrate --db '$TWOSPEED_DB_FILE' | grep -qx 'deleted campaign integrate' &&
    { '$TS' campaign show integrate --db '$TWOSPEED_DB_FILE' 2>'$TMP/err'; [ \$? = 1 ]; } && jq -e '.data.pointer == \"/id\"' '$TMP/err'"

echo "advice: $passed passed, $failed failed"
[ "$failed" = 0 ]
