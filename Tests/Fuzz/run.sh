#!/usr/bin/env bash
# Runs each fuzz harness for SECONDS on its corpus (build/fuzz/corpus/NAME, grown run after run) and the
# seeds from examples/; stops at the first failure, keeping the input under build/fuzz/artifacts/NAME/
# and printing the stack and the command that reproduces it. Usage (from make fuzz):
#   run.sh FUZZ_DIR SECONDS HARNESS...
set -uo pipefail
dir=$(cd "$1" && pwd) seconds=$2
shift 2

python3 Tests/Fuzz/make_corpus.py "$dir/fuzz_methods" "$dir" || exit 1
# An empty folder to run in: plugin.load's relative paths must find no manifest there.
mkdir -p "$dir/work"
# Leak checks stay on. abort_on_error gives libFuzzer the crash, so that it saves the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}

failed=0
for h in "$@"; do
    mkdir -p "$dir/corpus/$h" "$dir/artifacts/$h"
    log=$dir/$h.log
    echo "fuzz: $h for ${seconds}s (log: $log)"
    start=$(date +%s)
    last=$dir/artifacts/$h/last-input
    (cd "$dir/work" && TWOSPEED_FUZZ_LAST_INPUT=$last exec "$dir/$h" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
        -dict="$dir/twospeed.dict" -artifact_prefix="$dir/artifacts/$h/" -print_final_stats=1 \
        "$dir/corpus/$h" "$dir/seeds/$h") >"$log" 2>&1 </dev/null
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    corpus=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
    echo "fuzz: $h: exit $rc after $(( $(date +%s) - start ))s; ${runs:-?} runs; ${cov:-no coverage line}; ${corpus:-}"
    if [ "$rc" -ne 0 ]; then
        failed=1
        input=$(grep -oE "(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+" "$log" | tail -1)
        echo "FAIL fuzz: $h found a problem; the report:" >&2
        # The sanitizer's or the harness's report, from its first line to libFuzzer's summary.
        awk '/^(==[0-9]+==ERROR|TWOSPEED FUZZ|AddressSanitizer:DEADLYSIGNAL)/ {p=1} p' "$log" | head -80 >&2
        if [ -n "$input" ]; then
            input=$dir/artifacts/$h/$input
        elif [ -s "$last" ]; then
            # Died without libFuzzer saving the input: the one it was running.
            input=$dir/artifacts/$h/died-$(date +%Y%m%d-%H%M%S)
            cp "$last" "$input"
            echo "(libFuzzer saved no input: the process died in the middle of one; this is it)" >&2
        fi
        if [ -n "$input" ]; then
            echo "input: $input" >&2
            echo "reproduce: (cd $dir/work && $dir/$h $input)" >&2
            [ "$h" = fuzz_methods ] && echo "as a request: TWOSPEED_FUZZ_PRINT=1 $dir/$h $input 2>&1 | grep ^request:" >&2
        fi
        break
    fi
done
exit $failed
