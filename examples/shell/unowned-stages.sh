#!/bin/sh
# Prints the stages of a portfolio's journeys that no product with an owner covers, one per line:
# the stage reference (journey/stage) and the stage's name, tab-separated. A two-speed operating model
# wants every stage of a journey owned by an accountable product manager.
#   examples/shell/unowned-stages.sh retailer
set -eu
# twospeed-rpc: $TWOSPEED_RPC, else the checkout's copy beside this script, else the one on PATH (make install).
rpc=${TWOSPEED_RPC:-$(dirname "$0")/../../bindings/shell/twospeed-rpc}
if [ -z "${TWOSPEED_RPC:-}" ] && [ ! -f "$rpc" ]; then
    rpc=$(command -v twospeed-rpc) || { echo "$0: twospeed-rpc not found: install it (make install) or set TWOSPEED_RPC" >&2; exit 127; }
fi
[ $# -eq 1 ] || { echo "usage: $0 PORTFOLIO" >&2; exit 2; }

record=$("$rpc" -c portfolio.get "$(jq -cn --arg id "$1" '{id: $id}')")
printf '%s\n' "$record" | jq -r '
    .portfolio as $p
    | [$p.products[] | select((.owner // "") != "") | .stages[]] as $owned
    | $p.journeys[] | .id as $journey
    | .stages[] | "\($journey)/\(.id)" as $ref
    | select(any($owned[]; . == $ref) | not)
    | [$ref, .name] | @tsv'
