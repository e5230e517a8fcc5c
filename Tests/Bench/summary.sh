#!/usr/bin/env bash
# The figures the issues set targets for, gathered from this run of make bench into one table:
# each figure is a ratio to its floor measured in the same run, beside its target.
set -euo pipefail
file=$1
[ -s "$file" ] || { echo "no summary figures in $file"; exit 0; }
echo
echo "== targets (each a ratio to a floor measured in this run) =="
awk -F'\t' '
    $3 == "-" { printf "%-62s %8s   %-8s %s\n", $1, $2, "-", "reported (no target)"; next }
    { op = substr($3, 1, 2); t = substr($3, 4) + 0
      ok = (op == "<=") ? ($2 <= t) : ($2 >= t)
      printf "%-62s %8s   %-8s %s\n", $1, $2, $3, ok ? "holds" : "MISSED" }' "$file"
