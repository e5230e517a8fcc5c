#!/bin/sh
# Appends one observation to a metric and prints how many the metric holds now.
#   examples/shell/observe.sh retailer nps 42            (now, UTC)
#   examples/shell/observe.sh retailer nps 42 2026-09-30 "quarterly survey"
set -eu
rpc=${TWOSPEED_RPC:-$(dirname "$0")/../../bindings/shell/twospeed-rpc}
[ $# -ge 3 ] && [ $# -le 5 ] || { echo "usage: $0 PORTFOLIO METRIC VALUE [AT] [SOURCE]" >&2; exit 2; }
at=${4:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

params=$(jq -cn --arg p "$1" --arg m "$2" --argjson v "$3" --arg at "$at" --arg src "${5:-}" '
    {portfolio: $p, metric: $m,
     observations: [{at: $at, value: $v} + (if $src == "" then {} else {source: $src} end)]}')
result=$("$rpc" -c metric.observe "$params")
printf '%s\n' "$result" | jq -r '"\(.metric): \(.total) observations (revision \(.revision))"'
