#!/usr/bin/env bash
# make bench's two-daemon figures (issue 22): two twospeedd over one throwaway PostgreSQL (initdb as
# postgres in a temporary folder, a Unix socket only), bench_cluster's threads split between their
# sockets, at 8 / 32 / 64 clients: a 90% read mix over 50 portfolios, then all writes to one portfolio
# with ifRevision. The floor: the same load against ONE twospeedd over SQLite, in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${TWOSPEED_BUILD:?}
DAEMON=${TWOSPEED_DAEMON:-$BUILD/bin/twospeedd}
CLI=${TWOSPEED_CLI:-$BUILD/bin/twospeed}
SECONDS_PER_RUN=${BENCH_SECONDS:-2}
CLIENT_COUNTS=${BENCH_CLIENTS:-8 32 64}
PORTFOLIOS=50
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/twospeed-cluster-bench-XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
            for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
            as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --locale=C --no-sync >/dev/null
# fsync stays on, as for the SQLite floor (synchronous=FULL). max_connections covers two daemons' pools.
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-k $dir -c listen_addresses='' -c max_connections=200" start >/dev/null
postmaster=$(head -1 "$dir/data/postmaster.pid")
as_pg "$bin/createdb" -h "$dir" -U postgres cluster
uri="postgresql:///cluster?host=$dir&user=postgres"

"$DAEMON" --socket "$dir/a.sock" --db "$uri" --log-level error 2>"$dir/a.log" & A=$!; pids+=("$A")
"$DAEMON" --socket "$dir/b.sock" --db "$uri" --log-level error 2>"$dir/b.log" & B=$!; pids+=("$B")
"$DAEMON" --socket "$dir/s.sock" --db "$dir/floor.sqlite" --log-level error 2>"$dir/s.log" & S=$!; pids+=("$S")
for _ in $(seq 400); do [ -S "$dir/a.sock" ] && [ -S "$dir/b.sock" ] && [ -S "$dir/s.sock" ] && break; sleep 0.025; done

# 50 copies of the retailer, p0..p49, put through daemon A (B learns of them by NOTIFY) and the floor.
python3 - "$dir" "$PORTFOLIOS" <<'EOF'
import json, sys
d = json.load(open("examples/portfolios/retailer.json"))
for i in range(int(sys.argv[2])):
    d["id"] = f"p{i}"
    json.dump(d, open(f"{sys.argv[1]}/p{i}.json", "w"))
EOF
for i in $(seq 0 $((PORTFOLIOS - 1))); do
    "$CLI" import --socket "$dir/a.sock" "$dir/p$i.json" >/dev/null
    "$CLI" import --socket "$dir/s.sock" "$dir/p$i.json" >/dev/null
done
last=p$((PORTFOLIOS - 1))
for _ in $(seq 200); do "$CLI" call --socket "$dir/b.sock" portfolio.get "{\"id\":\"$last\"}" >/dev/null 2>&1 && break; sleep 0.05; done

run() { "$BUILD/bench_cluster" "$@"; }
pg() { run "$1" "$SECONDS_PER_RUN" "$2" "$PORTFOLIOS" "$dir/a.sock,$dir/b.sock" "$A,$B" "$postmaster"; }
sq() { run "$1" "$SECONDS_PER_RUN" "$2" "$PORTFOLIOS" "$dir/s.sock" "$S" 0; }
# a short warm-up of each path
run mix 0.3 4 "$PORTFOLIOS" "$dir/a.sock,$dir/b.sock" "$A,$B" "$postmaster" >/dev/null
run mix 0.3 4 "$PORTFOLIOS" "$dir/s.sock" "$S" 0 >/dev/null

echo "two twospeedd over one PostgreSQL (2 daemons) against one twospeedd over SQLite (1 daemon), ${SECONDS_PER_RUN}s a run;"
echo "mix: 80% entity.get, 10% portfolio.get, 10% entity.upsert over $PORTFOLIOS portfolios;"
echo "one: portfolio.get then entity.upsert with its ifRevision, all on p0; a -32005 conflict is counted, not retried."
echo "CPU is us per request (utime+stime from /proc): daemons, PostgreSQL (postmaster and its children), the client itself."
printf '%-4s %-6s %4s %8s %8s %8s %8s %9s %8s %9s %9s %9s %9s\n' phase store clients req/s p50_us p99_us writes conflict% commit/s daemon_us pg_us total_us client_us
out=$dir/results
: > "$out"
for phase in mix one; do
    for c in $CLIENT_COUNTS; do
        for store in sqlite pg; do
            if [ $store = pg ]; then line=$(pg $phase "$c"); else line=$(sq $phase "$c"); fi
            echo "$store $line" >> "$out"
            echo "$store $line" | awk '{ conf = $9 > 0 ? 100 * $10 / $9 : 0
                printf "%-4s %-6s %4d %8d %8.0f %8.0f %8d %9.1f %8.0f %9.1f %9.1f %9.1f %9.1f\n", $2, $1, $3, $6, $7, $8, $9, conf, ($9 - $10) / $5, $11, $12, $11 + $12, $13 }'
        done
    done
done

# What a daemon spends on the other's writes: every client on A, the CPU of B alone (it serves nobody,
# it only reloads the portfolios A's notices name).
idle=$(run mix "$SECONDS_PER_RUN" 8 "$PORTFOLIOS" "$dir/a.sock" "$B" 0)
echo "$idle" | awk '{ printf "\nevery client on daemon A (mix, 8 clients): daemon B, idle but for notices, spent %.1f us per request of A, %.0f us per write of A (conflicts %d)\n", $10, $10 * $3 / $8, $9 }'

# Ratios to the floor at 64 clients, and what the CPU per request predicts for more cores.
awk -v summary="${BENCH_SUMMARY:-}" -v counts="$CLIENT_COUNTS" '
    { key = $2 " " $3; if ($1 == "pg") { pg[key] = $0; pgrps[key] = $6; pgcpu[key] = $11 + $12; pgd[key] = $11; pgp[key] = $12 }
      else { sqrps[key] = $6; sqcpu[key] = $11 } }
    END {
      print ""
      n = split(counts, cs, " ")
      for (ph = 1; ph <= 2; ph++) for (i = 1; i <= n; i++) {
        key = (ph == 1 ? "mix" : "one") " " cs[i]
        if (!(key in pg)) continue
        split(key, k, " ")
        printf "%s at %d clients: throughput PostgreSQL pair / SQLite %.2f; CPU per request %.2f (%.0f us daemons + %.0f us PostgreSQL against %.0f us)\n",
               k[1], k[2], pgrps[key] / sqrps[key], pgcpu[key] / sqcpu[key], pgd[key], pgp[key], sqcpu[key]
      }
      m = "mix " cs[n]; o = "one " cs[n]
      if (summary != "" && (m in pg)) {
        printf "two-daemon mix at %s clients, CPU per request PostgreSQL / SQLite\t%.2f\t-\n", cs[n], pgcpu[m] / sqcpu[m] >> summary
        printf "two-daemon mix at %s clients, throughput PostgreSQL / SQLite\t%.2f\t-\n", cs[n], pgrps[m] / sqrps[m] >> summary
      }
      if (m in pg) {
        print ""
        printf "What this predicts for more cores: cores needed = CPU per request x requests/s. For the mix, each request costs\n"
        printf "%.0f us in the daemons and %.0f us in PostgreSQL, so 10,000 requests/s need %.1f cores of daemons (split over as many\n", pgd[m], pgp[m], pgd[m] * 0.01
        printf "daemons and hosts as wanted) and %.1f cores of PostgreSQL (one server: the part that does not spread). The share of\n", pgp[m] * 0.01
        printf "PostgreSQL in the mix is %.0f%%; the daemons scale out by adding daemons, PostgreSQL only by a bigger server.\n", 100 * pgp[m] / (pgd[m] + pgp[m])
        printf "Part of the daemons%s cost over the SQLite floor (%.0f us against %.0f us) is not per daemon but per write times daemons:\n", "\047", pgd[m], sqcpu[m]
        printf "every write is reloaded by each other daemon on its notice, so adding daemons adds reload CPU as writes grow.\n"
        if (o in pg) printf "Writes to one portfolio cost %.0f us (daemons) + %.0f us (PostgreSQL) a request and conflict more with more clients:\nthey are bounded by the one portfolio row, not by cores.\n", pgd[o], pgp[o]
      }
    }' "$out"
