#!/usr/bin/env bash
# make bench's PostgreSQL figures: a throwaway server (initdb as postgres in a temporary folder, a Unix
# socket only), bench_pg against it, the server stopped at exit.
set -euo pipefail
BUILD=${TWOSPEED_BUILD:?}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/twospeed-pg-bench-XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --locale=C --no-sync >/dev/null
# fsync stays on: the floor and the engine commit the same way.
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-k $dir -c listen_addresses=''" start >/dev/null
"$BUILD/bench_pg" "$dir" "$BUILD/bench/synthetic-1.json"
