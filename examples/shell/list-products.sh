#!/bin/sh
# Lists the products of a portfolio, one per line: id, status, owner ("-" for none) and name, tab-separated.
#   TWOSPEED_SOCKET=/run/twospeed/twospeed.sock examples/shell/list-products.sh retailer
set -eu
# twospeed-rpc: $TWOSPEED_RPC, else the checkout's copy beside this script, else the one on PATH (make install).
rpc=${TWOSPEED_RPC:-$(dirname "$0")/../../bindings/shell/twospeed-rpc}
if [ -z "${TWOSPEED_RPC:-}" ] && [ ! -f "$rpc" ]; then
    rpc=$(command -v twospeed-rpc) || { echo "$0: twospeed-rpc not found: install it (make install) or set TWOSPEED_RPC" >&2; exit 127; }
fi
[ $# -eq 1 ] || { echo "usage: $0 PORTFOLIO" >&2; exit 2; }

products=$("$rpc" -c entity.list "$(jq -cn --arg p "$1" '{portfolio: $p, kind: "product"}')")
printf '%s\n' "$products" | jq -r '.entities[] | [.id, .status, (.owner // "-"), .name] | @tsv'
