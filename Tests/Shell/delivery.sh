#!/usr/bin/env bash
# Delivery events from the shell (issue 13): `twospeed import --from deployments|incidents` with JSON Lines
# and spreadsheet CSV, every bad record named by file and line, --atomic, re-import counting nothing twice;
# delivery.metrics through twospeedd with twospeed-rpc.
set -u
cd "$(dirname "$0")/../.."
BUILD=${TWOSPEED_BUILD:-$PWD/build}
CLI=$BUILD/bin/twospeed
DAEMON=$BUILD/bin/twospeedd
RPC=$PWD/bindings/shell/twospeed-rpc
TMP=$(mktemp -d /tmp/twospeed-delivery-XXXXXX)
DPID=
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
# shellcheck source=Tests/Shell/check.sh
. Tests/Shell/check.sh

DB=$TMP/store.sqlite
"$CLI" import --db "$DB" examples/portfolios/retailer.json >/dev/null || { echo "cannot load the retailer"; exit 1; }

cat > "$TMP/deployments.jsonl" <<'EOF'
{"id":"d1","system":"web-checkout","time":"2026-03-10T12:00:00Z","changes":[{"id":"c1","committed":"2026-03-10T10:00:00Z"},{"id":"c2","committed":"2026-03-09T12:00:00Z"}]}

{"id":"d2","system":"nowhere","time":"2026-03-11T12:00:00Z"}
{"id":"d3","system":"cms","time":"2026-03-11T12:00:00Z"
{"id":"d4","system":"web-checkout","time":"2026-03-12","failed":true}
EOF
# As Excel writes it: a byte-order mark, semicolons, CRLF, a quoted cell, an empty one.
printf '\xef\xbb\xbfid;system;started;resolved;cause\r\ni1;web-checkout;2026-03-10T13:00:00Z;2026-03-10T17:00:00Z;d1\r\n"i2";web-checkout;2026-03-12T01:00:00Z;;\r\ni3;cms;yesterday;;\r\n' > "$TMP/incidents.csv"

"$CLI" import --db "$DB" --from deployments --portfolio retailer "$TMP/deployments.jsonl" --compact >"$TMP/dep.out" 2>"$TMP/dep.err"
echo $? > "$TMP/dep.status"
check "a JSON Lines import with bad records exits 1" grep -qx 1 "$TMP/dep.status"
check "it records the good ones" bash -c "jq -e '.deployments.created == 2 and .deployments.skipped == 2 and .problemCount == 2' '$TMP/dep.out'"
check "a line that is not JSON is named by file, line and column" grep -q "deployments.jsonl:4:[0-9]*: not JSON" "$TMP/dep.err"
check "an unknown system is named by file, line and member" grep -q 'deployments.jsonl:3: system: the portfolio has no system "nowhere"' "$TMP/dep.err"

"$CLI" import --db "$DB" --from incidents --portfolio retailer --atomic "$TMP/incidents.csv" >"$TMP/atomic.out" 2>"$TMP/atomic.err"
check "--atomic with a bad row exits 1" test $? -eq 1
check "--atomic names the row and column" grep -q 'incidents.csv:4:3: started: not an RFC 3339' "$TMP/atomic.err"
check "--atomic records nothing" bash -c "'$CLI' call --db '$DB' delivery.metrics '{\"portfolio\":\"retailer\",\"until\":\"2026-04-01T00:00:00Z\"}' | jq -e '.windows[0].systems[] | select(.system == \"web-checkout\") | .incidents == 0'"

"$CLI" import --db "$DB" --from incidents --portfolio retailer "$TMP/incidents.csv" --compact >"$TMP/inc.out" 2>/dev/null
check "a spreadsheet CSV records its good rows" bash -c "jq -e '.incidents.created == 2 and .incidents.skipped == 1 and .problems[0].line == 4 and .problems[0].column == 3' '$TMP/inc.out'"
"$CLI" import --db "$DB" --from incidents --portfolio retailer "$TMP/incidents.csv" --compact >"$TMP/again.out" 2>/dev/null
check "importing again counts nothing twice" bash -c "jq -e '.incidents.created == 0 and .incidents.unchanged == 2' '$TMP/again.out'"
check "--from needs --portfolio" bash -c "'$CLI' import --db '$DB' --from deployments '$TMP/deployments.jsonl'; test \$? -eq 2"

# A log larger than one message goes in several calls (each a transaction), and every event lands.
python3 -c '
for i in range(50000):
    print("{\"id\":\"big-%06d\",\"system\":\"erp\",\"time\":\"2025-06-01T00:00:00Z\",\"changes\":[{\"id\":\"commit-%06d-with-a-long-name\",\"committed\":\"2025-05-31T00:00:00Z\"}]}" % (i, i))
' > "$TMP/big.jsonl"
"$CLI" import --db "$DB" --from deployments --portfolio retailer "$TMP/big.jsonl" --compact >"$TMP/big.out" 2>&1
check "a large log goes in several calls and every event lands" bash -c "jq -e '.calls >= 2 and .deployments.created == 50000 and .problemCount == 0' '$TMP/big.out'"

# Streaming: a 40 MB log is read in pieces and sent in bounded calls; the command no longer holds the
# file (it held 11x a log's size, so 470 MB here), whatever its size. Peak RSS from /usr/bin/time.
python3 -c '
for i in range(200000):
    print("{\"id\":\"mem-%07d\",\"system\":\"erp\",\"time\":\"2025-06-01T00:00:00Z\",\"changes\":[{\"id\":\"commit-%07d-a\",\"committed\":\"2025-05-31T00:00:00Z\"},{\"id\":\"commit-%07d-b\",\"committed\":\"2025-05-30T00:00:00Z\"}]}" % (i, i, i))
' > "$TMP/mem.jsonl"
/usr/bin/time -f '%M' -o "$TMP/mem.kb" "$CLI" import --db "$DB" --from deployments --portfolio retailer "$TMP/mem.jsonl" --compact >"$TMP/mem.out" 2>/dev/null
check "a 40 MB log is imported whole" bash -c "jq -e '.deployments.created == 200000 and .problemCount == 0' '$TMP/mem.out'"
check "within 150 MB of memory (peak RSS $(cat "$TMP/mem.kb") KB)" test "$(cat "$TMP/mem.kb")" -lt 153600

# Progress: a line redrawn on a terminal only (script gives the command one); a file gets none.
TWOSPEED_PROGRESS_AFTER=0 script -qec "'$CLI' import --db '$DB' --from deployments --portfolio retailer '$TMP/mem.jsonl' --compact" /dev/null \
    | tr '\r' '\n' > "$TMP/tty.out"
check "a terminal shows the import's progress" grep -aq "twospeed import: .*records" "$TMP/tty.out"
TWOSPEED_PROGRESS_AFTER=0 "$CLI" import --db "$DB" --from deployments --portfolio retailer "$TMP/mem.jsonl" --compact >/dev/null 2>"$TMP/notty.err"
check "stderr that is no terminal gets no progress line" bash -c "! grep -q 'twospeed import:' '$TMP/notty.err'"

# The bundled logs name the systems of the bundled Backstage catalog (examples/backstage), not the
# retailer's: into the retailer every record is skipped, which records nothing and is an error that says why.
"$CLI" import --db "$DB" --from deployments --portfolio retailer examples/delivery/deployments.jsonl --compact >"$TMP/none.out" 2>"$TMP/none.err"
check "a log naming none of the portfolio's systems exits 1" test $? -eq 1
check "it records nothing" bash -c "jq -e '.deployments.created == 0 and .deployments.skipped == 143' '$TMP/none.out'"
check "it says why once" grep -q 'twospeed: 143 record(s) name systems portfolio "retailer" does not have ("mobile-app", ' "$TMP/none.err"
check "each skipped record is one line with one reason" bash -c "
    test \$(grep -c '^examples/delivery/deployments.jsonl:[0-9]*: system: the portfolio has no system \"[a-z-]*\"\$' '$TMP/none.err') -eq 143"
# The near miss: the same logs into the catalog they were written for land whole.
DB2=$TMP/catalog.sqlite
"$CLI" import --db "$DB2" --from backstage --portfolio my-company examples/backstage/ >/dev/null 2>&1
"$CLI" import --db "$DB2" --from deployments --portfolio my-company examples/delivery/deployments.jsonl --compact >"$TMP/cat-d.out" 2>&1
"$CLI" import --db "$DB2" --from incidents --portfolio my-company examples/delivery/incidents.csv --compact >"$TMP/cat-i.out" 2>&1
check "the bundled logs land whole in the bundled catalog" bash -c "
    jq -e '.deployments.created == 143 and .problemCount == 0' '$TMP/cat-d.out' && jq -e '.incidents.created == 2 and .problemCount == 0' '$TMP/cat-i.out'"

# DORA Four Keys' tables as BigQuery exports them (Tests/Fixtures/fourkeys; docs/fourkeys.md).
FK=Tests/Fixtures/fourkeys
DB3=$TMP/fourkeys.sqlite
"$CLI" import --db "$DB3" examples/portfolios/retailer.json >/dev/null
"$CLI" import --db "$DB3" --from fourkeys --portfolio retailer --system web-checkout "$FK/changes.csv" "$FK/deployments.json" "$FK/incidents.json" \
    --compact >"$TMP/fk.out" 2>"$TMP/fk.err"
check "--from fourkeys records the exported tables" bash -c "jq -e '.deployments.created == 3 and .incidents.created == 4 and .problemCount == 0' '$TMP/fk.out'"
check "--from fourkeys says what the tables could not give" grep -q "twospeed: note: 1 change(s) of the deployments are not in the changes table" "$TMP/fk.err"
"$CLI" import --db "$DB3" --from fourkeys --portfolio retailer --system web-checkout "$FK/changes.csv" "$FK/deployments.csv" --compact >/dev/null 2>"$TMP/fk-bad.err"
check "a bad Four Keys row exits 1" test $? -eq 1
check "and is named by file, line, column and Four Keys column" grep -q "^$FK/deployments.csv:5:3: time_created: not an RFC 3339" "$TMP/fk-bad.err"
check "--system is only for --from fourkeys" bash -c "'$CLI' import --db '$DB3' --from deployments --system erp --portfolio retailer '$FK/deployments.json' 2>/dev/null; test \$? -eq 2"

# The real-data fixture's year of delivery (Tests/Fixtures/company/delivery, from its generate.py): it is
# what the generator writes, and every record of it lands in a portfolio of svc-001 .. svc-200.
CO=Tests/Fixtures/company/delivery
python3 "$CO/generate.py" "$TMP/regen"
check "the company's delivery files are what generate.py writes" bash -c "
    for f in deployments.jsonl incidents.csv fourkeys/changes.csv fourkeys/deployments.json fourkeys/incidents.json; do cmp -s '$CO/'\$f '$TMP/regen/'\$f || exit 1; done"
python3 -c '
import json
print(json.dumps({"id": "company", "organization": {"name": "Company"},
                  "systems": [{"id": "svc-%03d" % n, "name": "Service %d" % n, "layer": "back-end"} for n in range(1, 201)]}))
' > "$TMP/company.json"
DB4=$TMP/company.sqlite
"$CLI" import --db "$DB4" "$TMP/company.json" >/dev/null
"$CLI" import --db "$DB4" --from deployments --portfolio company "$CO/deployments.jsonl" --compact >"$TMP/co-d.out" 2>&1
"$CLI" import --db "$DB4" --from incidents --portfolio company "$CO/incidents.csv" --compact >"$TMP/co-i.out" 2>&1
"$CLI" import --db "$DB4" --from fourkeys --portfolio company "$CO/fourkeys/changes.csv" "$CO/fourkeys/deployments.json" \
    "$CO/fourkeys/incidents.json" --compact >"$TMP/co-f.out" 2>"$TMP/co-f.err"
check "every deployment and incident of the company's year lands" bash -c "
    jq -e '.problemCount == 0 and .deployments.skipped == 0 and .deployments.created > 3000' '$TMP/co-d.out' &&
    jq -e '.problemCount == 0 and .incidents.skipped == 0 and .incidents.created > 300' '$TMP/co-i.out' &&
    jq -e '.problemCount == 0 and .deployments.created > 900 and .incidents.created > 50 and (.notes // []) == []' '$TMP/co-f.out'"
"$CLI" call --db "$DB4" delivery.metrics '{"portfolio":"company","until":"2026-12-01T00:00:00Z","days":365}' > "$TMP/co-m.json"
check "the company has fast and slow systems, each from its events" bash -c "
    jq -e '[.windows[0].systems[] | .tier] as \$t | (.windows[0].systems | length) == 200 and (\$t | index(\"elite\") or index(\"high\")) and (\$t | index(\"low\"))' '$TMP/co-m.json'"

# Through the daemon: d1 (leads 2 h and 24 h) and d4 (failed); i1 caused by d1 (4 h), i2 without a
# cause (open). So: 2 deployments, 1 successful, median lead 13 h, failure rate 2 / 2, recovery 4 h.
"$DAEMON" --socket "$TMP/d.sock" --db "$DB" 2>"$TMP/d.log" &
DPID=$!
for _ in $(seq 300); do [ -S "$TMP/d.sock" ] && "$CLI" call --socket "$TMP/d.sock" engine.info >/dev/null 2>&1 && break; sleep 0.05; done
"$RPC" -s "$TMP/d.sock" -c delivery.metrics '{"portfolio":"retailer","system":"web-checkout","until":"2026-04-01T00:00:00Z"}' > "$TMP/m.json"
check "twospeed-rpc delivery.metrics gives the four keys" bash -c "jq -e '.windows[0].systems[0] | .deployments == 2 and .successfulDeployments == 1 and .leadTimeHours == 13 and .changeFailureRate == 1 and .recoveryHours == 4 and .openIncidents == 1' '$TMP/m.json'"
# delivery.import from the shell: the same CSV reader and mapper as the command line, over the socket.
"$RPC" -s "$TMP/d.sock" delivery.import '{"portfolio":"retailer","kind":"incidents","format":"csv","file":"inc.csv","text":"id;system;started;resolved\r\nrpc-1;cms;2026-03-20T00:00:00Z;2026-03-20T01:00:00Z\r\nrpc-2;cms;later;\r\n"}' > "$TMP/imp.json"
check "twospeed-rpc delivery.import records the good rows and names the bad one by line and column" bash -c "
    jq -e '.incidents.created == 1 and .incidents.skipped == 1 and .problems[0].line == 3 and .problems[0].column == 3 and .problems[0].pointer == \"/text\"' '$TMP/imp.json'"
"$RPC" -s "$TMP/d.sock" delivery.import '{"portfolio":"retailer","kind":"incidents","format":"csv","text":"id,system,started\nx,nowhere,2026-03-20\n"}' 2>"$TMP/imp.err" >/dev/null
check "twospeed-rpc delivery.import of a log naming no system of the portfolio is -32602" bash -c "jq -e '.code == -32602 and .data.errors[0].reason == \"text:2:2: system: the portfolio has no system \\\"nowhere\\\"\"' '$TMP/imp.err'"
check "a bad param is an error with its pointer" bash -c "'$RPC' -s '$TMP/d.sock' delivery.metrics '{\"portfolio\":\"retailer\",\"days\":0}' 2>&1 >/dev/null | jq -e '.data.pointer == \"/days\"'"

echo "delivery shell tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
