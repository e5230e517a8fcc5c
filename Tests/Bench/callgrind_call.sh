#!/usr/bin/env bash
# Instructions per call (callgrind's Ir, exact and repeatable) of bench_call's three small requests and
# of their jansson floor, with the ratio of the two: what compares a change to the call path on a
# machine too busy for stable times. `make callgrind-call` runs it.
# Usage: callgrind_call.sh BUILD_DIR [N [LIB_DIR]]   (LIB_DIR: another libtwospeed to measure, default BUILD_DIR/lib)
set -euo pipefail
build=${1:?usage: callgrind_call.sh BUILD_DIR [N [LIB_DIR]]}
n=${2:-2000}
libdir=${3:-$build/lib}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# valgrind 3.19 gives up on the Swift toolchain's DWARF 5: it reads a copy without the debug sections
# (the symbol table names the functions), found first through LD_LIBRARY_PATH (call_count has a RUNPATH).
mkdir "$tmp/lib"
objcopy --strip-debug "$libdir/libtwospeed.so.0" "$tmp/lib/libtwospeed.so.0"
export LD_LIBRARY_PATH="$tmp/lib"
ir() { # function request -> total Ir inside function
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" --collect-atstart=no --toggle-collect="$1" \
        "$build/call_count" "$n" "$2" >/dev/null 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
    callgrind_annotate "$tmp/out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
}
printf '%-16s %12s %12s %7s\n' request "Ir/call" "Ir/floor" ratio
for pair in \
    'entity.get|{"jsonrpc":"2.0","method":"entity.get","params":{"portfolio":"retailer","kind":"product","id":"front-page"},"id":1}' \
    'engine.info|{"jsonrpc":"2.0","method":"engine.info","id":1}' \
    'portfolio.list|{"jsonrpc":"2.0","method":"portfolio.list","id":1}'; do
    label=${pair%%|*}; request=${pair#*|}
    call=$(ir run_calls "$request"); floor=$(ir run_floor "$request")
    awk -v l="$label" -v c="$call" -v f="$floor" -v n="$n" 'BEGIN { printf "%-16s %12.0f %12.0f %7.2f\n", l, c / n, f / n, c / f }'
done
