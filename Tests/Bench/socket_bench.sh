#!/usr/bin/env bash
# The socket bench: twospeedd beside its floor, a bare C echo server with the same line framing, both
# driven by the same C client (bench_socket.c) over a Unix-domain socket, in one run.
#   round trip of a small request (engine.info) at one client, and the ratio to the floor;
#   throughput, p50 and p99 with 1, 8 and 64 clients;
#   the daemon's resident memory holding a synthetic 10,000-product portfolio.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${TWOSPEED_BUILD:-$PWD/build}
DAEMON=${TWOSPEED_DAEMON:-$BUILD/bin/twospeedd}
SECONDS_PER_RUN=${BENCH_SECONDS:-3}
TMP=$(mktemp -d /tmp/twospeed-bench-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_socket() { for _ in $(seq 400); do [ -S "$1" ] && return 0; sleep 0.025; done; echo "no socket $1"; exit 1; }

"$BUILD/echo_server" "$TMP/echo.sock" & EPID=$!; PIDS+=($EPID)
"$DAEMON" --socket "$TMP/d.sock" --db "$TMP/bench.sqlite" --log-level error 2>"$TMP/d.log" & DPID=$!; PIDS+=($DPID)
wait_socket "$TMP/echo.sock"
wait_socket "$TMP/d.sock"

INFO='{"jsonrpc":"2.0","method":"engine.info","id":1}'
LIST='{"jsonrpc":"2.0","method":"portfolio.list","id":1}'
CPUS="0-$(( $(nproc) - 1 ))"
rt() { "$BUILD/bench_socket" rt "$@"; }
field() { echo "$1" | awk -v i="$2" '{print $i}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# One line of the issue's table (make bench prints it last): figure, value, target.
summary() { [ -n "${BENCH_SUMMARY:-}" ] && printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$BENCH_SUMMARY" || true; }
# pin PID... CPUS: every thread of the processes onto CPUS.
pin() { local cpus=${!#}; for p in "${@:1:$#-1}"; do taskset -a -p -c "$cpus" "$p" >/dev/null; done; }

# Warm both up (page faults, lazy initialization) before measuring.
rt "$TMP/echo.sock" 1 0.5 "$INFO" >/dev/null
rt "$TMP/d.sock" 1 0.5 "$INFO" --expect-result >/dev/null

echo
echo "== twospeedd over a Unix socket, beside a bare C echo server (same C client, same line framing) =="
echo "${SECONDS_PER_RUN} s per run, $(nproc) cores; a round trip is one request written, its reply read"
echo
echo "-- one client, round trip in microseconds --"
echo "   same core: client and server pinned to CPU 0 (the software cost alone)"
echo "   two cores: server on CPU 0, client on CPU 1 (adds waking the other core, twice per round trip)"
printf '%-34s %10s %10s %10s %10s\n' "" "same p50" "same p99" "2-core p50" "2-core p99"
declare -A SAME FREE
for name in floor info list; do
    case $name in
        floor) sock=$TMP/echo.sock; req=$INFO; extra=""; label="C echo server (floor), engine.info" ;;
        info) sock=$TMP/d.sock; req=$INFO; extra="--expect-result"; label="twospeedd engine.info" ;;
        list) sock=$TMP/d.sock; req=$LIST; extra="--expect-result"; label="twospeedd portfolio.list" ;;
    esac
    pin "${PIDS[@]}" 0
    SAME[$name]=$(taskset -c 0 "$BUILD/bench_socket" rt "$sock" 1 "$SECONDS_PER_RUN" "$req" $extra)
    FREE[$name]=$(taskset -c 1 "$BUILD/bench_socket" rt "$sock" 1 "$SECONDS_PER_RUN" "$req" $extra)
    pin "${PIDS[@]}" "$CPUS"
    printf '%-34s %10s %10s %10s %10s\n' "$label" "$(field "${SAME[$name]}" 5)" "$(field "${SAME[$name]}" 6)" \
        "$(field "${FREE[$name]}" 5)" "$(field "${FREE[$name]}" 6)"
done
summary "twospeedd engine.info round trip p50, same core / echo" "$(ratio "$(field "${SAME[info]}" 5)" "$(field "${SAME[floor]}" 5)")" "<= 2"
for name in info list; do
    printf 'ratio to the floor, %-14s p50: same core %sx, two cores %sx\n' "$name" \
        "$(ratio "$(field "${SAME[$name]}" 5)" "$(field "${SAME[floor]}" 5)")" \
        "$(ratio "$(field "${FREE[$name]}" 5)" "$(field "${FREE[floor]}" 5)")"
done

echo
echo "-- throughput, engine.info, clients each waiting for their reply before the next request --"
printf '%-9s %-12s %12s %10s %10s %10s\n' clients server "req/s" "p50 us" "p99 us" "mean us"
for c in 1 8 64; do
    floor=$(rt "$TMP/echo.sock" "$c" "$SECONDS_PER_RUN" "$INFO")
    daemon=$(rt "$TMP/d.sock" "$c" "$SECONDS_PER_RUN" "$INFO" --expect-result)
    [ "$c" = 64 ] && summary "twospeedd engine.info throughput, 64 clients / echo" "$(ratio "$(field "$daemon" 4)" "$(field "$floor" 4)")" ">= 0.6"
    for line in "$floor" "$daemon"; do
        [ "$line" = "$floor" ] && name="C echo" || name="twospeedd"
        printf '%-9s %-12s %12s %10s %10s %10s\n' "$c" "$name" "$(field "$line" 4)" "$(field "$line" 5)" "$(field "$line" 6)" "$(field "$line" 7)"
    done
done

echo
"$BUILD/bench_socket" rss "$TMP/d.sock" 10000 > "$TMP/rss"
read -r products bytes before after put_ms get_ms get_bytes < "$TMP/rss"
echo "== memory: a synthetic portfolio of $products products ($((bytes / 1024)) KiB of JSON) =="
echo "twospeedd resident memory: $((before / 1024)) MiB idle, $((after / 1024)) MiB holding it"
echo "portfolio.put ${put_ms} ms (validated, written to SQLite), portfolio.get ${get_ms} ms ($((get_bytes / 1024)) KiB reply)"

# Readers beside an assessment: entity.get's latency alone, then while another client runs and keeps
# assessments of the same 10,000-product portfolio back to back (issue 12: at most 2x its p99 alone).
GET='{"jsonrpc":"2.0","method":"entity.get","params":{"portfolio":"synthetic","kind":"product","id":"p4321"},"id":1}'
ASSESS='{"jsonrpc":"2.0","method":"assessment.run","params":{"portfolio":"synthetic"},"id":1}'
alone=$(rt "$TMP/d.sock" 1 "$SECONDS_PER_RUN" "$GET" --expect-result)
rt "$TMP/d.sock" 1 "$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { print s + 1 }')" "$ASSESS" --expect-result > "$TMP/assess" & APID=$!
sleep 0.5
beside=$(rt "$TMP/d.sock" 1 "$SECONDS_PER_RUN" "$GET" --expect-result)
wait "$APID"
echo
echo "== entity.get beside assessment.run (kept), one client each, on the 10,000-product portfolio =="
printf '%-34s %10s %10s %10s\n' "" "p50 us" "p99 us" "req/s"
printf '%-34s %10s %10s %10s\n' "entity.get alone" "$(field "$alone" 5)" "$(field "$alone" 6)" "$(field "$alone" 4)"
printf '%-34s %10s %10s %10s\n' "entity.get beside assessments" "$(field "$beside" 5)" "$(field "$beside" 6)" "$(field "$beside" 4)"
summary "entity.get p99 beside kept assessments / alone" "$(ratio "$(field "$beside" 6)" "$(field "$alone" 6)")" "<= 2"
echo "assessments kept meanwhile: $(field "$(cat "$TMP/assess")" 2); entity.get p99 beside / alone: $(ratio "$(field "$beside" 6)" "$(field "$alone" 6)")x"
kill -TERM "$DPID"; wait "$DPID"
