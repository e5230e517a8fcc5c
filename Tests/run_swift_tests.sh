#!/usr/bin/env bash
# Runs the Swift test bundle's XCTest classes in parallel processes, a class at a time from one queue
# (make test's Swift lane: `swift test` runs them one after another on one core). Every class the bundle
# lists runs; the count executed is checked against the count listed, so a class that is skipped, lost or
# crashes fails the run. Each class's output is kept and printed when the run ends (a failed one last,
# in full). Then the swift-testing pass, as `swift test` runs it.
#
#   Tests/run_swift_tests.sh [BUNDLE] [JOBS]   (default .build/debug/TwoSpeedPackageTests.xctest, 2)
set -uo pipefail
BUNDLE=${1:-.build/debug/TwoSpeedPackageTests.xctest}
JOBS=${2:-2}
[ -x "$BUNDLE" ] || { echo "run_swift_tests: no test bundle at $BUNDLE (swift build --build-tests)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/twospeed-swift-tests-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"$BUNDLE" --list-tests > "$OUT/list" 2>&1 || { cat "$OUT/list"; exit 2; }
grep -E '^[A-Za-z0-9_]+\.[A-Za-z0-9_]+/' "$OUT/list" | sort > "$OUT/tests"
listed=$(wc -l < "$OUT/tests")
[ "$listed" -gt 0 ] || { echo "run_swift_tests: the bundle lists no test" >&2; cat "$OUT/list"; exit 2; }

# The longest classes first, so that the two queues end together (a class's length only orders the
# queue: a class missing from this list still runs, after these, in name order).
LONG="TwoSpeedFaultTests.JanssonAllocationTests TwoSpeedFaultTests.FaultInjectionTests TwoSpeedTests.OutcomeTests
TwoSpeedDaemonTests.HardeningTests TwoSpeedFaultTests.EnvironmentFaultTests TwoSpeedDaemonTests.DaemonTests
TwoSpeedTests.StoreContractTests TwoSpeedFaultTests.RunAdviceAtomicityTests TwoSpeedDaemonTests.ContentionTests
TwoSpeedTests.ConcurrencyTests TwoSpeedTests.WasmPluginTests TwoSpeedTests.PluginTests"
sed 's,/.*,,' "$OUT/tests" | sort -u > "$OUT/classes"
{ for c in $LONG; do grep -Fx "$c" "$OUT/classes"; done; grep -Fxv -f <(tr ' ' '\n' <<< "$LONG" | grep .) "$OUT/classes"; } > "$OUT/queue"

start=$(date +%s)
# One process per class; its exit code is written beside its output.
export BUNDLE OUT
xargs -P "$JOBS" -I{} bash -c '"$BUNDLE" "{}" > "$OUT/{}.log" 2>&1; echo $? > "$OUT/{}.rc"' < "$OUT/queue"

failed=()
executed=0
while read -r c; do
    rc=$(cat "$OUT/$c.rc" 2>/dev/null || echo missing)
    n=$(grep -cE "^Test Case '.*' (passed|failed|skipped)" "$OUT/$c.log")
    executed=$((executed + n))
    secs=$(sed -nE "s/.*Executed [0-9]+ tests?, with .* in ([0-9.]+) .*/\1/p" "$OUT/$c.log" | tail -1)
    if [ "$rc" = 0 ]; then echo "passed  $c ($n tests, ${secs:-?} s)"; else echo "FAILED  $c (exit $rc)"; failed+=("$c"); fi
done < "$OUT/queue"
for c in "${failed[@]}"; do echo; echo "===== $c ====="; cat "$OUT/$c.log"; done

# swift-testing exits 69 (EX_UNAVAILABLE) when the bundle has no @Test, as this one has none yet.
"$BUNDLE" --testing-library swift-testing > "$OUT/swift-testing.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 69 ]; then cat "$OUT/swift-testing.log"; failed+=(swift-testing); fi

echo "Swift tests: $executed of $listed executed in $(( $(date +%s) - start )) s over $JOBS processes, ${#failed[@]} classes failed"
if [ "$executed" -ne "$listed" ]; then echo "run_swift_tests: $listed tests listed but $executed executed" >&2; exit 1; fi
[ "${#failed[@]}" -eq 0 ]
