#!/bin/sh
# Appends one observation to a metric and prints how many the metric holds now. AT comes before VALUE,
# as in the Python helper's (at, value[, source]) tuples; AT "now" is the current time, UTC.
#   examples/shell/observe.sh retailer nps now 42
#   examples/shell/observe.sh retailer nps 2026-09-30 42 "quarterly survey"
set -eu
# twospeed-rpc: $TWOSPEED_RPC, else the checkout's copy beside this script, else the one on PATH (make install).
rpc=${TWOSPEED_RPC:-$(dirname "$0")/../../bindings/shell/twospeed-rpc}
if [ -z "${TWOSPEED_RPC:-}" ] && [ ! -f "$rpc" ]; then
    rpc=$(command -v twospeed-rpc) || { echo "$0: twospeed-rpc not found: install it (make install) or set TWOSPEED_RPC" >&2; exit 127; }
fi
usage() { echo "usage: $0 PORTFOLIO METRIC AT|now VALUE [SOURCE]" >&2; exit 2; }
[ $# -ge 3 ] && [ $# -le 5 ] || usage
isnumber() { printf '%s' "$1" | jq -e 'type == "number"' >/dev/null 2>&1; }

# The old order, VALUE [AT] [SOURCE], is still understood (an AT is never a bare number), with a warning.
if isnumber "$3"; then
    echo "$0: deprecated argument order PORTFOLIO METRIC VALUE [AT]: give AT|now VALUE" >&2
    p=$1 m=$2 v=$3 at=${4:-now} src=${5:-}
else
    [ $# -ge 4 ] || usage
    p=$1 m=$2 at=$3 v=$4 src=${5:-}
fi
[ "$at" != now ] || at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
isnumber "$v" || { echo "$0: VALUE must be a number: $v" >&2; exit 2; }

params=$(jq -cn --arg p "$p" --arg m "$m" --argjson v "$v" --arg at "$at" --arg src "$src" '
    {portfolio: $p, metric: $m,
     observations: [{at: $at, value: $v} + (if $src == "" then {} else {source: $src} end)]}')
result=$("$rpc" -c metric.observe "$params")
printf '%s\n' "$result" | jq -r '"\(.metric): \(.total) observations (revision \(.revision))"'
