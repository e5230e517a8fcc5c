#!/usr/bin/env bash
# Tests/run_swift_tests.sh (make test's Swift lane) against a stand-in bundle that prints what an XCTest
# bundle prints: every class listed runs, a failing class fails the run and shows its output, a class that
# runs fewer tests than it lists (a crash mid-class) fails it, and the swift-testing pass's "no tests" is
# not a failure while its real failure is.
set -u
cd "$(dirname "$0")/../.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=Tests/Shell/check.sh
. Tests/Shell/check.sh

# The stand-in: FAIL_CLASS fails that class, SHORT_CLASS runs one test fewer than listed, TESTING_RC is the
# swift-testing pass's exit code. Each class it runs is appended to $TMP/ran.
cat > "$TMP/bundle" <<'EOF'
#!/usr/bin/env bash
tests="M.A/test1 M.A/test2 M.B/test1 N.C/test1 N.C/test2 N.C/test3"
if [ "$1" = --list-tests ]; then echo "Listing 6 tests in fake.xctest:"; echo; tr ' ' '\n' <<< "$tests"; exit 0; fi
if [ "$1" = --testing-library ]; then echo "swift-testing"; exit "${TESTING_RC:-69}"; fi
echo "$1" >> "$RAN"
n=0
for t in $tests; do
    case $t in "$1"/*) ;; *) continue ;; esac
    n=$((n + 1))
    if [ "$1" = "${SHORT_CLASS:-}" ] && [ "$n" -gt 1 ]; then echo "Fatal error: crashed"; exit 134; fi
    if [ "$1" = "${FAIL_CLASS:-}" ]; then echo "Test Case '${t//\//.}' failed (0.001 seconds)"; else echo "Test Case '${t//\//.}' passed (0.001 seconds)"; fi
done
echo "	 Executed $n tests, with 0 failures (0 unexpected) in 0.001 (0.001) seconds"
[ "$1" != "${FAIL_CLASS:-}" ]
EOF
chmod +x "$TMP/bundle"
export RAN="$TMP/ran"
run() { rm -f "$RAN"; env "$@" bash Tests/run_swift_tests.sh "$TMP/bundle" 2 > "$TMP/log" 2>&1; }

run X=1
check "every class passing passes" test $? -eq 0
check "every listed class ran once" bash -c "sort '$RAN' | tr '\n' ' ' | grep -qx 'M.A M.B N.C '"
check "the count is told" grep -q "Swift tests: 6 of 6 executed" "$TMP/log"

run FAIL_CLASS=M.B
check "a failing class fails the run" test $? -ne 0
check "its output is shown" grep -q "===== M.B =====" "$TMP/log"
check "the other classes still ran" bash -c "sort '$RAN' | tr '\n' ' ' | grep -qx 'M.A M.B N.C '"

run SHORT_CLASS=N.C
check "a class that dies mid-way fails the run" test $? -ne 0
check "the missing tests are counted" grep -q "6 tests listed but 4 executed" "$TMP/log"

run TESTING_RC=1
check "a failing swift-testing pass fails the run" test $? -ne 0

run TESTING_RC=0
check "a passing swift-testing pass passes" test $? -eq 0

check "no bundle is a clear error" bash -c "out=\$(bash Tests/run_swift_tests.sh '$TMP/none' 2 2>&1); [ \$? -ne 0 ] && grep -q 'no test bundle' <<< \"\$out\""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
