#!/bin/sh
# Lists the products of a portfolio, one per line: id, status, owner ("-" for none) and name, tab-separated.
#   TWOSPEED_SOCKET=/run/twospeed/twospeed.sock examples/shell/list-products.sh retailer
set -eu
rpc=${TWOSPEED_RPC:-$(dirname "$0")/../../bindings/shell/twospeed-rpc}
[ $# -eq 1 ] || { echo "usage: $0 PORTFOLIO" >&2; exit 2; }

products=$("$rpc" -c entity.list "$(jq -cn --arg p "$1" '{portfolio: $p, kind: "product"}')")
printf '%s\n' "$products" | jq -r '.entities[] | [.id, .status, (.owner // "-"), .name] | @tsv'
