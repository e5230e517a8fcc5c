# The shell suites' check: sourced after TMP is set; each suite prints $passed and $failed at its end.
passed=0 failed=0

check() { # check NAME COMMAND...: passes when the command succeeds
    local name=$1; shift
    if "$@" >"$TMP/out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$TMP/out" | head -20; fi
}
