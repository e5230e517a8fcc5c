#!/usr/bin/env bash
# Shell-level tests of the imports and the starter: the README's "Bringing in what your tools hold"
# example as written, twospeed import --from backstage|csv|json, twospeed init, progress on stderr.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${TWOSPEED_BUILD:-$PWD/build}
TS=$BUILD/bin/twospeed
TMP=$(mktemp -d /tmp/twospeed-import-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=Tests/Shell/check.sh
. Tests/Shell/check.sh

# The README's bash block, run as written in a folder of its own (examples/ linked in).
awk '$0 == "```bash" {on=1; next} on && $0 == "```" {exit} on {print}' README.md > "$TMP/readme.sh"
mkdir "$TMP/readme" && ln -s "$ROOT/examples" "$TMP/readme/examples"
check "README import example runs" bash -c "cd '$TMP/readme' && PATH='$BUILD/bin':\$PATH bash -e '$TMP/readme.sh' 2> stderr.txt"
check "README example: the assessment ran on imported systems and products" bash -c "
    jq -e '.overall.score > 0' '$TMP/readme/assessment.json' >/dev/null &&
    '$TS' call --db '$TMP/readme/store.sqlite' entity.list '{\"portfolio\":\"my-company\",\"kind\":\"system\"}' | jq -e '.entities | length == 7' &&
    '$TS' call --db '$TMP/readme/store.sqlite' entity.list '{\"portfolio\":\"my-company\",\"kind\":\"product\"}' | jq -e '.entities | length == 2'"
check "README example: every system's speed comes from the recorded deployments, none typed by hand" bash -c "
    jq -e '[.analyses.speed.systems[] | .source // empty] | length == 6 and all(. == \"events\")' '$TMP/readme/assessment.json' >/dev/null &&
    jq -e '[.analyses.speed.systems[] | select(.system.id == \"web-shop\") | .tier] == [\"elite\"]' '$TMP/readme/assessment.json' >/dev/null &&
    jq -e '[.analyses.speed.systems[] | select(.system.id == \"product-db\") | .tier] == [\"low\"]' '$TMP/readme/assessment.json' >/dev/null"
check "README example: the unmapped Location is reported with its file and line" \
    grep -q '^examples/backstage/systems.yaml:148: skipped: kind Location is not mapped' "$TMP/readme/stderr.txt"
# Issue 21: what the import cannot carry (skills, experiments, journeys, measures) is not assessed, never
# scored as failure, and the report says so rather than "0 of 0".
check "README example: talent, test and learn, incentives and culture are not assessed, and named as evidence needed" bash -c "
    jq -e '[.dimensions[] | select(.id == \"talent\" or .id == \"test-and-learn\" or .id == \"incentives\" or .id == \"culture\") | select(.score == null and .level == null)] | length == 4' '$TMP/readme/assessment.json' >/dev/null &&
    jq -e '[.dimensions[].criteria[] | select(.fact.detail // \"\" | test(\"no experiments recorded|combine business and technology\"))] | length == 0' '$TMP/readme/assessment.json' >/dev/null &&
    jq -e '[.evidenceNeeded[] | select(startswith(\"Talent is not assessed\"))] | length == 1' '$TMP/readme/assessment.json' >/dev/null"
check "README example: the report says what was not assessed, never 0 of 0" bash -c "
    '$TS' report --format markdown '$TMP/readme/assessment.json' > '$TMP/readme/report.md' &&
    grep -q 'Stages without one owner: not assessed, no customer journeys recorded' '$TMP/readme/report.md' &&
    grep -q '| not assessed |' '$TMP/readme/report.md' && ! grep -q 'doubly owned, of 0' '$TMP/readme/report.md'"

check "import FILE still puts a JSON portfolio" bash -c "
    '$TS' import --db :memory: examples/portfolios/retailer.json | jq -e '.id == \"retailer\" and .revision == 1'"
check "import --from json is the same" bash -c "
    '$TS' import --from json --db :memory: examples/portfolios/retailer.json | jq -e '.counts.products == 5'"

# The broken catalog: every problem on stderr as FILE:LINE, the good records in, exit 0.
"$TS" import --from backstage --portfolio b --db "$TMP/b.sqlite" Tests/Fixtures/backstage-broken > "$TMP/b.json" 2> "$TMP/b.err"
check "broken catalog: exit 0 and the good records stored" bash -c "
    jq -e '.created.systems == 4 and .skipped == 2 and .unmapped == 1 and .unresolved == 2' '$TMP/b.json'"
check "broken catalog: bad YAML by file and line" grep -q 'backstage-broken/bad.yaml:15: skipped: YAML' "$TMP/b.err"
check "broken catalog: missing spec.owner by file and line" \
    grep -q 'backstage-broken/catalog.yaml:23: skipped: spec.owner is required for a Component' "$TMP/b.err"
check "broken catalog: a reference outside the catalog is a note by file and line, its component kept" \
    grep -q 'backstage-broken/catalog.yaml:36: note: unresolved reference: resource:default/missing-db' "$TMP/b.err"
check "broken catalog --atomic: exit 1, nothing stored" bash -c "
    '$TS' import --from backstage --atomic --portfolio a --db '$TMP/a.sqlite' Tests/Fixtures/backstage-broken > /dev/null 2> '$TMP/a.err';
    [ \$? -eq 1 ] && grep -q '\"code\": -32602' '$TMP/a.err' &&
    ! '$TS' call --db '$TMP/a.sqlite' portfolio.get '{\"id\":\"a\"}' 2>/dev/null"
check "--from backstage needs --portfolio (exit 2)" bash -c "
    '$TS' import --from backstage --db :memory: examples/backstage; [ \$? -eq 2 ]"
check "a layer rules file is applied" bash -c "
    echo '[{\"type\":\"service\",\"layer\":\"platform\"}]' > '$TMP/rules.json' &&
    '$TS' import --from backstage --portfolio r --rules '$TMP/rules.json' --db '$TMP/r.sqlite' examples/backstage > /dev/null 2>&1 &&
    '$TS' call --db '$TMP/r.sqlite' entity.get '{\"portfolio\":\"r\",\"kind\":\"system\",\"id\":\"shop-bff\"}' | jq -e '.entity.layer == \"platform\"'"

# Input that cannot hurt: each hostile file or folder ends in a clear error or a skip note, within a
# second and under 100 MB (GNU time's elapsed seconds and maximum resident set), never a hang or a trap.
within() { # within NAME OUT ERR ARGS...: runs the import under /usr/bin/time -v with a 20 s guard
    local name=$1 out=$2 err=$3; shift 3
    timeout 20 /usr/bin/time -v -o "$TMP/$name.time" "$TS" import --from backstage --portfolio "$name" --db :memory: "$@" > "$out" 2> "$err"
    echo $? > "$TMP/$name.rc"
}
fast_and_small() { # the run NAME took under a second and under 100 MB
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = t[n] + (n > 1 ? t[n-1] * 60 : 0); if (s >= 1) bad = 1 }
                /Maximum resident set size/ { if ($2 >= 100 * 1024) bad = 1; seen++ }
                END { exit (bad || seen != 1) }' "$TMP/$1.time" || { cat "$TMP/$1.time"; return 1; }
}
python3 - "$TMP/hostile" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d + "/walk/sub")
entity = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec: {type: service, lifecycle: production, owner: x}\n"
lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for i in range(1, 10):
    lines.append("a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)))
open(d + "/bomb.yaml", "w").write(entity % "before-bomb" + "---\n" + "\n".join(lines) + "\n")
open(d + "/deep.yaml", "w").write(entity % "before-deep" + "---\na: " + "[" * 100000 + "]" * 100000 + "\n")
open(d + "/walk/good.yaml", "w").write(entity % "walked")
PY
ln -s .. "$TMP/hostile/walk/sub/loop"
ln -s / "$TMP/hostile/walk/out"
mkfifo "$TMP/hostile/walk/p.yaml"
within bomb "$TMP/bomb.json" "$TMP/bomb.err" "$TMP/hostile/bomb.yaml"
check "alias bomb: an error naming file and line, the document before it imported" bash -c "
    grep -q 'bomb.yaml:12: skipped: YAML: aliases expand this document past 100000 values' '$TMP/bomb.err' &&
    jq -e '.created.systems == 1' '$TMP/bomb.json' >/dev/null"
check "alias bomb: under a second and 100 MB" fast_and_small bomb
within deep "$TMP/deep.json" "$TMP/deep.err" "$TMP/hostile/deep.yaml"
check "100,000-deep document: an error naming file and line" grep -q 'deep.yaml:7: skipped: YAML: nesting deeper than 256 levels' "$TMP/deep.err"
check "100,000-deep document: under a second and 100 MB" fast_and_small deep
within walk "$TMP/walk.json" "$TMP/walk.err" "$TMP/hostile/walk"
check "folder walk: a symlink loop, a symlink out of the folder and a FIFO are skip notes" bash -c "
    grep -q 'walk/sub/loop: note: skipped: a folder already walked (a symlink loop)' '$TMP/walk.err' &&
    grep -q 'walk/out: note: skipped: a symlink out of the folder' '$TMP/walk.err' &&
    grep -q 'walk/p.yaml: note: skipped: not a regular file' '$TMP/walk.err' &&
    jq -e '.created.systems == 1' '$TMP/walk.json' >/dev/null"
check "folder walk: under a second and 100 MB" fast_and_small walk
check "a FIFO named on the command line is refused, not waited on" bash -c "
    timeout 5 '$TS' import --from backstage --portfolio f --db :memory: '$TMP/hostile/walk/p.yaml' 2>&1 | grep -q 'p.yaml: note: skipped: not a regular file'"

# Every record skipped: nothing created, the reason said, exit 1.
printf 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: lonely\nspec:\n  type: service\n' > "$TMP/allbad.yaml"
check "an import whose every record is skipped creates nothing and says why (exit 1)" bash -c "
    '$TS' import --from backstage --portfolio none --db '$TMP/none.sqlite' '$TMP/allbad.yaml' > '$TMP/none.json' 2> '$TMP/none.err';
    [ \$? -eq 1 ] && grep -q 'twospeed import: note: every record was skipped (1 read): portfolio \"none\" was not created' '$TMP/none.err' &&
    jq -e '.portfolioCreated == false' '$TMP/none.json' >/dev/null &&
    ! '$TS' call --db '$TMP/none.sqlite' portfolio.get '{\"id\":\"none\"}' 2>/dev/null"

# Locations: a named file's Location brings its targets from the same folder; itself is a cycle.
check "a Location's targets are followed; a target leading back is a cycle note" bash -c "
    '$TS' import --from backstage --portfolio loc --db :memory: examples/backstage/systems.yaml > '$TMP/loc.json' 2> '$TMP/loc.err' &&
    jq -e '.created.departments == 3 and .created.teams == 3 and .created.systems == 7 and .unresolved == 0' '$TMP/loc.json' >/dev/null &&
    grep -q 'systems.yaml:152: note: refused: Location target examples/backstage/systems.yaml leads back' '$TMP/loc.err'"
mkdir -p "$TMP/locs/repos/a" "$TMP/locs/repos/b" "$TMP/outside"
cp "$TMP/hostile/walk/good.yaml" "$TMP/outside/x.yaml"
printf 'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\nspec:\n  targets: [./repos/*/catalog-info.yaml, ../outside/x.yaml, https://github.com/o/r/blob/main/catalog-info.yaml]\n' > "$TMP/locs/root.yaml"
for r in a b; do
    printf 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc-%s}\nspec: {type: service, lifecycle: production, owner: team-%s}\n---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: back-%s}\nspec: {target: ../../root.yaml}\n' $r $r $r > "$TMP/locs/repos/$r/catalog-info.yaml"
done
check "Location globs inside the folder are read; outside the folder, cycles and URLs are notes" bash -c "
    '$TS' import --from backstage --portfolio locs --db :memory: '$TMP/locs/root.yaml' > '$TMP/locs.json' 2> '$TMP/locs.err' &&
    jq -e '.created.systems == 2 and .unresolved == 2' '$TMP/locs.json' >/dev/null &&
    grep -q 'root.yaml:5: note: refused: Location target .*outside/x.yaml is outside the imported folder' '$TMP/locs.err' &&
    grep -q 'root.yaml:5: note: Location target https://github.com/o/r/blob/main/catalog-info.yaml is a URL: not fetched' '$TMP/locs.err' &&
    grep -q 'repos/a/catalog-info.yaml:9: note: refused: Location target .*root.yaml leads back to a Location on the way here (a cycle)' '$TMP/locs.err'"

# Backstage's catalog API, exported with one curl: the entities array from stdin, by-query items from a file.
python3 - "$TMP/api.json" "$TMP/items.json" <<'PY'
import json, sys
ents = []
for i in range(1, 41):
    ents.append({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                 "metadata": {"name": "svc-%03d" % i, "namespace": "default", "uid": "u%d" % i, "etag": "e"},
                 "spec": {"type": "service", "lifecycle": "production", "owner": "group:default/team-%d" % (i % 4)},
                 "relations": [{"type": "ownedBy", "targetRef": "group:default/team-%d" % (i % 4)}]})
json.dump(ents, open(sys.argv[1], "w"), separators=(",", ":"))
json.dump({"items": ents[:10], "totalItems": 10, "pageInfo": {}}, open(sys.argv[2], "w"), indent=2)
PY
check "catalog API JSON (/api/catalog/entities) from stdin: every component, owners unresolved" bash -c "
    '$TS' import --from backstage --portfolio api --db :memory: - < '$TMP/api.json' 2> '$TMP/api.err' |
    jq -e '.created.systems == 40 and .skipped == 0 and .unresolved == 40' >/dev/null &&
    grep -q '^standard input:1: note: unresolved reference: group:default/team-1' '$TMP/api.err'"
check "catalog API JSON (by-query items) from a .json file, lines per entity" bash -c "
    '$TS' import --from backstage --portfolio items --db :memory: '$TMP/items.json' 2> '$TMP/items.err' |
    jq -e '.created.systems == 10' >/dev/null && grep -q 'items.json:3: note: unresolved reference: group:default/team-1' '$TMP/items.err'"

# The company fixture (Tests/Fixtures/company, written by its generate.py): 200 components over 64
# repositories' catalog-info.yaml files, reached from a Location at the root; groups and users absent.
check "company fixture: generate.py writes exactly the committed files" bash -c "
    cp -r Tests/Fixtures/company '$TMP/company' && python3 '$TMP/company/generate.py' && diff -r Tests/Fixtures/company '$TMP/company'"
"$TS" import --from backstage --portfolio company --db "$TMP/company.sqlite" --quiet Tests/Fixtures/company/catalog-info.yaml \
    > "$TMP/company.json" 2> "$TMP/company.err"
"$TS" call --db "$TMP/company.sqlite" portfolio.get '{"id":"company"}' > "$TMP/company-doc.json" 2>&1
check "company fixture: every component arrives (svc-001 .. svc-200) and the 12 databases" bash -c "
    jq -e '.created.systems == 212 and .skipped == 0 and .portfolioCreated' '$TMP/company.json' >/dev/null &&
    jq -e '[.portfolio.systems[].id | select(startswith(\"svc-\"))] | sort == [range(1; 201) | \"svc-\" + (. | tostring | (\"00\" + .)[-3:])]' '$TMP/company-doc.json' >/dev/null"
check "company fixture: every owner is listed as unresolved, with its file and line" bash -c "
    jq -e '[.portfolio.unresolved[] | select(.field == \"owner\")] | length == 212' '$TMP/company-doc.json' >/dev/null &&
    jq -e '[.portfolio.unresolved[] | select(.id == \"svc-001\")] == [{\"kind\":\"system\",\"id\":\"svc-001\",\"field\":\"owner\",\"ref\":\"group:default/team-02\",\"source\":\"Tests/Fixtures/company/repos/repo-01-storefront/catalog-info.yaml:11\"}]' '$TMP/company-doc.json' >/dev/null &&
    jq -e '[.portfolio.systems[] | select(.owner != null)] | length == 0' '$TMP/company-doc.json' >/dev/null &&
    grep -q 'repo-01-storefront/catalog-info.yaml:11: note: unresolved reference: group:default/team-02' '$TMP/company.err'"
check "company fixture: domains become departments, systems take their domain's, interfaces from the relations" bash -c "
    jq -e '.portfolio.organization.departments | map(.id) | sort == [\"commerce\", \"customer\", \"operations\", \"technology\"]' '$TMP/company-doc.json' >/dev/null &&
    jq -e '.portfolio.systems[] | select(.id == \"svc-002\") | .department == \"commerce\"' '$TMP/company-doc.json' >/dev/null &&
    jq -e '[.portfolio.systems[] | .interfaces[]] | length > 100' '$TMP/company-doc.json' >/dev/null"

# CSV as Excel writes it.
printf '\xef\xbb\xbfid;name;size;roles\r\nsq;"Squad; one";5;"dev;ops"\r\nbad;Bad;zero;\r\n' > "$TMP/teams.csv"
"$TS" import --from csv --kind team --portfolio retailer --db "$TMP/c.sqlite" "$TMP/teams.csv" > "$TMP/c.json" 2> "$TMP/c.err"
check "CSV from Excel: one team created, one row refused" jq -e '.created.teams == 1 and .skipped == 1' "$TMP/c.json"
check "CSV: the problem by row and column" grep -q 'teams.csv: row 3, column 3 (size): skipped: "zero" is not an integer' "$TMP/c.err"
check "--from csv needs --kind (exit 2)" bash -c "'$TS' import --from csv --portfolio x --db :memory: '$TMP/teams.csv'; [ \$? -eq 2 ]"

# The starters validate, and the retailer one is the bundled example.
check "init empty writes a starter that imports" bash -c "
    '$TS' init '$TMP/empty.json' 2>/dev/null && '$TS' import --db :memory: '$TMP/empty.json' | jq -e '.id == \"my-company\"'"
check "init retailer writes the example with notes" bash -c "
    '$TS' init --template retailer '$TMP/retailer.json' 2>/dev/null && '$TS' import --db :memory: '$TMP/retailer.json' > /dev/null &&
    diff <(jq -S 'del(.\"\$schema\", .\"\$comment\")' '$TMP/retailer.json') <(jq -S . examples/portfolios/retailer.json) &&
    jq -e '.\"\$comment\" | length > 2' '$TMP/retailer.json'"
check "init does not overwrite without --force (exit 2)" bash -c "
    '$TS' init '$TMP/empty.json' 2>/dev/null; [ \$? -eq 2 ] && '$TS' init --force '$TMP/empty.json' 2>/dev/null"

# Progress: a line a second on a pipe once the import has run long enough (TWOSPEED_PROGRESS_AFTER
# brings the two seconds down to none here); --quiet, none. The catalog is large enough that the import
# outlasts the progress thread's first tick (a tenth of a second) by far: 3,000 components no longer did
# once YAML was read from libyaml's events.
python3 - "$TMP/big.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: t\nspec:\n  type: team\n  children: []\n")
    for i in range(20000):
        f.write("---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c%d\nspec:\n"
                "  type: service\n  lifecycle: production\n  owner: t\n" % i)
PY
check "progress: lines on stderr when not a terminal" bash -c "
    TWOSPEED_PROGRESS_AFTER=0 '$TS' import --from backstage --portfolio p --db :memory: '$TMP/big.yaml' 2>&1 >/dev/null |
    grep -q '^twospeed import: '"
check "progress: --quiet draws none" bash -c "
    [ -z \"\$(TWOSPEED_PROGRESS_AFTER=0 '$TS' import --quiet --from backstage --portfolio p --db :memory: '$TMP/big.yaml' 2>&1 >/dev/null)\" ]"

# Each problem on a line of its own, saying "skipped" once.
printf 'apiVersion: backstage.io/v1alpha1\nkind: Template\nmetadata:\n  name: x\nspec: {}\n' > "$TMP/template.yaml"
check "an unmapped kind is one line that says skipped once" bash -c "
    '$TS' import --from backstage --portfolio p --db :memory: '$TMP/template.yaml' 2>'$TMP/tpl.err' >/dev/null;
    grep -qx '$TMP/template.yaml:2: skipped: kind Template is not mapped onto the portfolio' '$TMP/tpl.err' &&
    ! grep -q 'skipped.*skipped' '$TMP/tpl.err'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
