#!/usr/bin/env bash
# The real-data fixture end to end, as a company would bring its data in (issue 21): its catalog from the
# repositories' catalog-info.yaml files through the Location root, with groups and users left to an org
# provider; a year of deployments and incidents, part in DORA Four Keys' export and part in TwoSpeed's own
# logs; then an assessment kept and reported. Every component arrives, nothing the imports cannot carry
# is judged, and the report says what evidence would raise its confidence.
set -u
cd "$(dirname "$0")/../.."
BUILD=${TWOSPEED_BUILD:-$PWD/build}
TS=$BUILD/bin/twospeed
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=Tests/Shell/check.sh
. Tests/Shell/check.sh
DB=$TMP/company.sqlite
CO=Tests/Fixtures/company

"$TS" import --from backstage --portfolio company --db "$DB" --quiet "$CO/catalog-info.yaml" > "$TMP/catalog.json" 2> "$TMP/catalog.err"
"$TS" import --db "$DB" --from deployments --portfolio company "$CO/delivery/deployments.jsonl" --compact > "$TMP/d.json" 2>&1
"$TS" import --db "$DB" --from incidents --portfolio company "$CO/delivery/incidents.csv" --compact > "$TMP/i.json" 2>&1
"$TS" import --db "$DB" --from fourkeys --portfolio company "$CO/delivery/fourkeys/changes.csv" \
    "$CO/delivery/fourkeys/deployments.json" "$CO/delivery/fourkeys/incidents.json" --compact > "$TMP/f.json" 2>&1
"$TS" assess --db "$DB" --portfolio company --as-of 2026-12-01 --json --compact > "$TMP/result.json" 2> "$TMP/assess.err"
"$TS" report --db "$DB" --portfolio company --format text > "$TMP/report.txt" 2>&1
"$TS" report --db "$DB" --portfolio company -o "$TMP/report.md" 2>&1

check "every component arrives though its owner lives in the org provider, and nothing is skipped" bash -c "
    jq -e '.created.systems == 212 and .skipped == 0' '$TMP/catalog.json' >/dev/null &&
    '$TS' call --db '$DB' --compact portfolio.get '{\"id\":\"company\"}' |
        jq -e '(.portfolio.systems | length) == 212 and ([.portfolio.unresolved[] | select(.field == \"owner\")] | length) == 212'"
check "the year of delivery lands: our logs and the Four Keys export, nothing skipped" bash -c "
    jq -e '.deployments.skipped == 0 and .deployments.created > 3000' '$TMP/d.json' >/dev/null &&
    jq -e '.incidents.skipped == 0 and .incidents.created > 300' '$TMP/i.json' >/dev/null &&
    jq -e '.problemCount == 0 and .deployments.created > 900' '$TMP/f.json' >/dev/null"
check "the assessment is kept" bash -c "jq -e '.run == 1' '$TMP/result.json' >/dev/null"
check "the recorded events give the systems their delivery figures and DORA tiers: a two-speed company" bash -c "
    jq -e '[.analyses.speed.systems[] | select(.system.id | startswith(\"svc-\")) | .tier] as \$t |
           (\$t | map(select(. != null)) | length) == 200 and (\$t | index(\"low\")) and ((\$t | index(\"elite\")) or (\$t | index(\"high\")))' '$TMP/result.json' >/dev/null"
# A catalog carries no people's skills, no experiments, no OKRs, no journeys: those dimensions are not judged.
check "dimensions the imports cannot inform are not assessed: no level, never a failing score" bash -c "
    jq -e '[.dimensions[] | select(.id == \"talent\" or .id == \"test-and-learn\" or .id == \"culture\" or .id == \"incentives\")] |
           length == 4 and all(.level == null)' '$TMP/result.json' >/dev/null"
check "no criterion with unknown facts carries a score" bash -c "
    jq -e '[.dimensions[].criteria[] | select(.evidenceNeeded != null and .score != null)] | length == 0' '$TMP/result.json' >/dev/null"
check "ownership is evidence needed, not failed: every system's owner is outside the import" bash -c "
    jq -e '[.pitfalls[] | select(.pitfall == \"platforms-without-reorientation\" or .pitfall == \"looking-outside-for-speed\")] | length == 0' '$TMP/result.json' >/dev/null &&
    jq -e '.evidenceNeeded | length > 0' '$TMP/result.json' >/dev/null"
check "the overall level waits for evidence rather than reading as traditional" bash -c "
    jq -e '.overall.sufficientEvidence == false and .overall.level == null' '$TMP/result.json' >/dev/null"
check "the report says what was not assessed and what would answer it, and never reads 0 of 0" bash -c "
    grep -qi 'not assessed' '$TMP/report.txt' && grep -qi 'evidence' '$TMP/report.txt' &&
    ! grep -q '0 of 0' '$TMP/report.txt' && ! grep -q '0 of 0' '$TMP/report.md' && grep -qi 'not assessed' '$TMP/report.md'"
check "the first recommendation addresses a finding of the data the imports carried" bash -c "
    jq -e '.recommendations | length > 0' '$TMP/result.json' >/dev/null &&
    jq -e '.recommendations[0] as \$r | \$r.expectedGain > 0 and ([.pitfalls[].pitfall] | index(\$r.pitfall))' '$TMP/result.json' >/dev/null"

echo "company.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
