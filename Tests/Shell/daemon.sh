#!/usr/bin/env bash
# Shell-level tests of twospeedd, the twospeed command, the shell client twospeed-rpc and the example
# scripts, against real daemons on temporary sockets; clients: twospeed, nc -U, socat, twospeed-rpc,
# and a peer running as nobody (setpriv).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${TWOSPEED_BUILD:-$PWD/build}
BIN=${TWOSPEED_BIN:-$BUILD/bin}
DAEMON=$BIN/twospeedd
CLI=$BIN/twospeed
RPC=$ROOT/bindings/shell/twospeed-rpc
TMP=$(mktemp -d /tmp/twospeed-shell-XXXXXX)
chmod 0755 "$TMP"   # peers running as other users must reach the sockets in here
# What runs as another user is copied here: the checkout may be in a folder only its owner can enter.
install -m 0755 "$RPC" "$TMP/twospeed-rpc"
SHARED_RPC=$TMP/twospeed-rpc
# A python3 that other users may run (the one first on PATH may live in root's home, as pyenv's does).
OTHERS_PYTHON=
for p in "$(command -v python3)" /usr/bin/python3 /usr/local/bin/python3; do
    if [ -x "$p" ] && setpriv --reuid=nobody --regid=nogroup --clear-groups "$p" -c '' 2>/dev/null; then OTHERS_PYTHON=$p; break; fi
done
PIDS=()
USERS_MADE=() GROUPS_MADE=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for u in "${USERS_MADE[@]}"; do userdel "$u" 2>/dev/null; done
    for g in "${GROUPS_MADE[@]}"; do groupdel "$g" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
passed=0 failed=0

check() { # check NAME COMMAND...: passes when the command succeeds
    local name=$1; shift
    # In a check's pipelines every part counts: `jq -e` alone passes on empty input, so a client that
    # could not even start would go unnoticed. (So no `| grep -q`: it may quit before the writer ends,
    # which then dies of SIGPIPE.)
    if [ "$1" = bash ] && [ "$2" = -c ]; then set -- bash -o pipefail "${@:2}"; fi
    if "$@" >"$TMP/out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$TMP/out" | head -20; fi
}

# start_daemon NAME ARGS...: starts twospeedd on $TMP/NAME.sock with the store $TMP/NAME.sqlite and
# waits until it serves; its pid is in DPID, its log in $TMP/NAME.log.
start_daemon() {
    local name=$1; shift
    "$DAEMON" --socket "$TMP/$name.sock" --db "$TMP/$name.sqlite" "$@" 2>>"$TMP/$name.log" &
    DPID=$!
    PIDS+=("$DPID")
    for _ in $(seq 300); do
        [ -S "$TMP/$name.sock" ] && "$CLI" call --socket "$TMP/$name.sock" engine.info >/dev/null 2>&1 && return 0
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.05
    done
    echo "twospeedd $name did not start:"; cat "$TMP/$name.log"
    return 1
}

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 20 ms until it succeeds; after SECONDS, says
# what it waited for and fails. Waits on conditions, never on the clock.
wait_until() {
    local seconds=$1 what=$2; shift 2
    local deadline=$(( $(date +%s%N) + seconds * 1000000000 ))
    until "$@"; do
        if [ "$(date +%s%N)" -ge "$deadline" ]; then echo "gave up after $seconds s waiting for $what"; return 1; fi
        sleep 0.02
    done
}
# open_count LOG: connections a daemon (run with --log-level debug) has accepted and not yet closed.
open_count() { echo $(( $(grep -c 'connection accepted' "$1") - $(grep -c 'connection closed' "$1") )); }
is_open() { [ "$(open_count "$1")" = "$2" ]; }
# wait_open LOG N: waits until exactly N connections are open; else prints what the log shows.
wait_open() {
    wait_until 15 "$2 open connections in $1" is_open "$1" "$2" ||
        { echo "open connections: $(open_count "$1")"; tail -5 "$1"; return 1; }
}
export -f wait_until open_count is_open wait_open

# stop_daemon PID: SIGTERM, and the daemon's exit status.
stop_daemon() { kill -TERM "$1"; wait "$1"; }

# status CMD...: prints the exit status of a command (its output discarded).
status() { "$@" >/dev/null 2>&1; echo $?; }

start_daemon main --log-level debug || exit 1
MAIN_PID=$DPID
SOCK=$TMP/main.sock
export TWOSPEED_SOCKET=$SOCK
REQ='{"jsonrpc":"2.0","method":"engine.info","id":1}'

# --- the twospeed command -----------------------------------------------------------------------
check "twospeed --help names the subcommands and exit statuses" bash -c "
    '$CLI' --help | grep >/dev/null 'call' && '$CLI' --help | grep >/dev/null 'import' && '$CLI' --help | grep >/dev/null '3 the daemon'"
check "twospeed call --help documents params from stdin" bash -c "'$CLI' call --help | grep >/dev/null 'to read them from standard'"
check "twospeed import puts a portfolio file" bash -c "
    '$CLI' import examples/portfolios/retailer.json --compact | jq -e '.id == \"retailer\" and .counts.products == 5'"
check "twospeed call prints the result (socket from TWOSPEED_SOCKET)" bash -c "
    '$CLI' call portfolio.list | jq -e '.portfolios[0].id == \"retailer\"'"
check "twospeed call --socket" bash -c "env -u TWOSPEED_SOCKET '$CLI' call --socket '$SOCK' engine.info | jq -e '.portfolios == 1'"
check "twospeed call reads params from stdin with -" bash -c "
    echo '[\"retailer\",\"product\",\"checkout\"]' | '$CLI' call entity.get - | jq -e '.entity.owner == \"pm-checkout\"'"
check "twospeed exit 1 on an error reply, error object on stderr" bash -c "
    '$CLI' call portfolio.get '{\"id\":\"nope\"}' 2>'$TMP/err'; [ \$? = 1 ] &&
    jq -e '.code == -32000 and .data.pointer == \"/id\"' '$TMP/err'"
check "twospeed exit 1 on an invalid portfolio, with pointers" bash -c "
    echo '{\"id\":\"bad\",\"organization\":{},\"journeys\":[]}' | '$CLI' import - 2>'$TMP/err'; [ \$? = 1 ] &&
    jq -e '.code == -32602 and ([.data.errors[].pointer] | index(\"/portfolio/organization/name\"))' '$TMP/err'"
check "twospeed exit 2 without a subcommand, help on stderr" bash -c "
    '$CLI' 2>'$TMP/err' >'$TMP/out2'; [ \$? = 2 ] && grep -q 'SUBCOMMANDS' '$TMP/err' && [ ! -s '$TMP/out2' ]"
check "twospeed exit 2 without a method" test "$(status "$CLI" call)" = 2
check "twospeed exit 2 on params that are not JSON" test "$(status "$CLI" call engine.info '{oops')" = 2
check "twospeed exit 2 on an unknown option" test "$(status "$CLI" call --frobnicate engine.info)" = 2
check "twospeed exit 2 on --socket with --db" test "$(status "$CLI" call --socket "$SOCK" --db :memory: engine.info)" = 2
check "twospeed exit 2 with no socket at all" test "$(status env -u TWOSPEED_SOCKET "$CLI" call engine.info)" = 2
check "twospeed exit 2 on a missing file" test "$(status "$CLI" import "$TMP/absent.json")" = 2
check "twospeed exit 3 when the daemon cannot be reached" bash -c "
    '$CLI' call --socket '$TMP/absent.sock' engine.info 2>'$TMP/err'; [ \$? = 3 ] && grep -q 'cannot reach' '$TMP/err'"
# --- command-line conventions: versions, suggestions, exit statuses, formats --------------------------
HEADER_VERSION=$(sed -n 's/^#define TWOSPEED_VERSION *"\(.*\)"/\1/p' include/twospeed.h)
check "twospeed --version, twospeedd --version, twospeed-rpc --version print the header's version, exit 0" bash -c "
    [ \"\$('$CLI' --version)\" = '$HEADER_VERSION' ] && [ \"\$('$DAEMON' --version)\" = '$HEADER_VERSION' ] &&
    [ \"\$('$RPC' --version)\" = 'twospeed-rpc $HEADER_VERSION' ]"
check "twospeed-rpc --help prints the usage on stdout, exit 0; an unknown long option is wrong usage" bash -c "
    '$RPC' --help | grep >/dev/null '^Usage: twospeed-rpc' && '$RPC' -h | grep >/dev/null -- '--version' &&
    { '$RPC' --frobnicate 2>'$TMP/err'; [ \$? = 2 ]; } && grep -q 'unknown option --frobnicate' '$TMP/err'"
check "twospeed calll: exit 2, did you mean call" bash -c "
    '$CLI' calll engine.info 2>'$TMP/err'; [ \$? = 2 ] && grep -q \"'calll' is not a twospeed command\" '$TMP/err' &&
    grep -A1 'Did you mean' '$TMP/err' | grep >/dev/null -x '    call'"
check "twospeed asess and twospeed rep suggest assess and report; a word far from all suggests nothing" bash -c "
    { '$CLI' asess x 2>'$TMP/err'; [ \$? = 2 ]; } && grep -qx '    assess' '$TMP/err' &&
    { '$CLI' rep x 2>'$TMP/err'; [ \$? = 2 ]; } && grep -qx '    report' '$TMP/err' &&
    { '$CLI' frobnicate 2>'$TMP/err'; [ \$? = 2 ]; } && ! grep -q 'Did you mean' '$TMP/err'"
check "twospeed report -o report.pdf: exit 2, lists the formats, writes nothing" bash -c "
    cd '$TMP' && { '$CLI' report '$ROOT/examples/portfolios/retailer.json' -o report.pdf 2>err; [ \$? = 2 ]; } &&
    grep -q '.pdf names no report format' err && grep -q '.html (html)' err && grep -q '.md (markdown)' err &&
    [ ! -e report.pdf ] && '$CLI' report '$ROOT/examples/portfolios/retailer.json' -o report.pdf --format html &&
    head -1 report.pdf | grep -qx '<!DOCTYPE html>' && '$CLI' report '$ROOT/examples/portfolios/retailer.json' -o r.txt &&
    grep -q 'Two-speed architecture' r.txt"
check "twospeedd exit statuses: 64 wrong usage, 1 cannot start, 0 after SIGTERM (as --help says)" bash -c "
    '$DAEMON' --help | grep >/dev/null '64 wrong usage' &&
    { '$DAEMON' --frobnicate 2>/dev/null; [ \$? = 64 ]; } &&
    { '$DAEMON' --socket '$SOCK' --db :memory: 2>/dev/null; [ \$? = 1 ]; } &&
    { '$DAEMON' --socket '$TMP/exit.sock' --db :memory: 2>/dev/null & p=\$!;
      for _ in \$(seq 200); do [ -S '$TMP/exit.sock' ] && break; sleep 0.05; done; kill -TERM \$p; wait \$p; }"
check "twospeed --db :memory: runs in-process" bash -c "
    env -u TWOSPEED_SOCKET '$CLI' call --db :memory: engine.info | jq -e '.store.inMemory == true'"
check "twospeed --db FILE keeps what was imported" bash -c "
    '$CLI' import --db '$TMP/cli.sqlite' examples/portfolios/retailer.json >/dev/null &&
    '$CLI' call --db '$TMP/cli.sqlite' --compact portfolio.list | jq -e '.portfolios | length == 1'"

# --- nc -U, socat ------------------------------------------------------------------------------------
check "nc -U: one request, one reply" bash -c "
    printf '%s\n' '$REQ' | nc -N -U '$SOCK' | jq -e '.id == 1 and .result.abiVersion == 1'"
check "socat: a pipelined pair answered in order" bash -c "
    printf '%s\n' '{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":\"a\"}' '{\"jsonrpc\":\"2.0\",\"method\":\"portfolio.list\",\"id\":\"b\"}' |
    socat -t 10 - UNIX-CONNECT:'$SOCK' | jq -s -e 'map(.id) == [\"a\",\"b\"]'"
check "socat: 1,000 pipelined requests on one connection, in order, no error" bash -c "
    seq 1000 | awk '{ if (\$1 % 5 == 0) printf \"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"method\\\":\\\"metric.observe\\\",\\\"params\\\":{\\\"portfolio\\\":\\\"retailer\\\",\\\"metric\\\":\\\"online-sales\\\",\\\"observations\\\":[{\\\"at\\\":\\\"2026-12-01\\\",\\\"value\\\":%d}]},\\\"id\\\":%d}\n\", \$1, \$1;
                      else printf \"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"method\\\":\\\"engine.info\\\",\\\"id\\\":%d}\n\", \$1 }' |
    socat -t 60 - UNIX-CONNECT:'$SOCK' > '$TMP/pipelined.out' &&
    jq -s -e '(map(.id) == [range(1;1001)]) and (map(select(.error)) | length == 0)' '$TMP/pipelined.out'"
check "64 clients at once (socat), no error and no lost write" bash -c "
    for i in \$(seq 64); do
        ( for k in 1 2 3; do printf '{\"jsonrpc\":\"2.0\",\"method\":\"metric.observe\",\"params\":{\"portfolio\":\"retailer\",\"metric\":\"nps\",\"observations\":[{\"at\":\"2026-12-02\",\"value\":%d,\"source\":\"shell-%d\"}]},\"id\":%d}\n' \$k \$i \$k; done |
          socat -t 60 - UNIX-CONNECT:'$SOCK' > \"$TMP/many.\$i\" ) &
    done; wait
    cat '$TMP'/many.* | jq -s -e 'length == 192 and (map(select(.error)) | length == 0)' &&
    '$CLI' call --compact entity.get '{\"portfolio\":\"retailer\",\"kind\":\"metric\",\"id\":\"nps\"}' |
      jq -e '[.entity.observations[] | select(.source // \"\" | startswith(\"shell-\"))] | length == 192'"
check "a client that disconnects mid-message harms nobody" bash -c "
    printf '{\"jsonrpc\":\"2.0\",\"meth' | socat -u - UNIX-CONNECT:'$SOCK';
    wait_open '$TMP/main.log' 0 || exit 1
    mkfifo '$TMP/stall'; socat -u - UNIX-CONNECT:'$SOCK' < '$TMP/stall' & exec 3>'$TMP/stall'
    printf '{\"jsonrpc\":\"2.0\",\"method\":\"engine.' >&3
    wait_open '$TMP/main.log' 1 || exit 1     # the stalled client is in, holding half a message
    '$CLI' call engine.info | jq -e '.portfolios == 1'; r=\$?; exec 3>&-; wait; exit \$r"

# --- the shell client and the examples -----------------------------------------------------------------
check "twospeed-rpc prints the result" bash -c "'$RPC' engine.info | jq -e '.abiVersion == 1'"
check "twospeed-rpc -s and params" bash -c "
    env -u TWOSPEED_SOCKET '$RPC' -s '$SOCK' -c entity.get '{\"portfolio\":\"retailer\",\"kind\":\"journey\",\"id\":\"online-shopping\"}' |
    jq -e '.entity.stages | length == 6'"
check "twospeed-rpc reads params from stdin" bash -c "echo '{\"id\":\"retailer\"}' | '$RPC' portfolio.get - | jq -e '.revision >= 1'"
check "twospeed-rpc: error on stderr, exit 1" bash -c "
    '$RPC' portfolio.get '{\"id\":\"nope\"}' 2>'$TMP/err' >'$TMP/out2'; [ \$? = 1 ] && [ ! -s '$TMP/out2' ] &&
    jq -e '.code == -32000' '$TMP/err'"
check "twospeed-rpc: exit 2 on bad params, 3 on no daemon" bash -c "
    '$RPC' engine.info '[1' ; [ \$? = 2 ] || exit 1; '$RPC' -s '$TMP/absent.sock' engine.info; [ \$? = 3 ]"
check "twospeed-rpc works over nc when socat is absent" bash -c "
    mkdir -p '$TMP/nosocat' && for t in jq nc cat; do ln -sf \"\$(command -v \$t)\" '$TMP/nosocat/'; done &&
    PATH='$TMP/nosocat' /bin/sh '$RPC' -c portfolio.list | '$TMP/nosocat/jq' -e '.portfolios[0].id == \"retailer\"'"
check "twospeed-rpc runs under dash" bash -c "dash '$RPC' -c engine.info | jq -e '.version'"
check "examples/shell/list-products.sh" bash -c "
    examples/shell/list-products.sh retailer > '$TMP/products' && [ \$(wc -l < '$TMP/products') = 5 ] &&
    grep -qx 'checkout	rollout	pm-checkout	Online checkout' '$TMP/products' &&
    grep -qx 'store-locator	live	-	Store locator app' '$TMP/products'"
check "examples/shell/observe.sh appends an observation, AT before VALUE as in Python" bash -c "
    obs() { '$RPC' -c entity.get '{\"portfolio\":\"retailer\",\"kind\":\"metric\",\"id\":\"front-page-conversion\"}' | jq -c '.entity.observations'; } &&
    before=\$(obs | jq length) &&
    examples/shell/observe.sh retailer front-page-conversion 2026-11-30 2.6 'web analytics' | grep -qx \"front-page-conversion: \$((before + 1)) observations (revision [0-9]*)\" &&
    obs | jq -e '.[-1] == {at: \"2026-11-30\", value: 2.6, source: \"web analytics\"}' &&
    examples/shell/observe.sh retailer front-page-conversion now 2.7 2>'$TMP/err' | grep >/dev/null \"\$((before + 2)) observations\" &&
    [ ! -s '$TMP/err' ] && obs | jq -e '.[-1].value == 2.7 and (.[-1].at | test(\"T\"))'"
check "examples/shell/observe.sh still takes the old VALUE [AT] order, with a warning" bash -c "
    examples/shell/observe.sh retailer front-page-conversion 2.8 2026-11-29 2>'$TMP/err' | grep -q observations &&
    grep -q deprecated '$TMP/err' &&
    '$RPC' -c entity.get '{\"portfolio\":\"retailer\",\"kind\":\"metric\",\"id\":\"front-page-conversion\"}' |
        jq -e '.entity.observations[-1] | .at == \"2026-11-29\" and .value == 2.8'"
check "examples/shell/observe.sh: a VALUE that is no number is wrong usage" bash -c "
    examples/shell/observe.sh retailer front-page-conversion 2026-11-30 lots 2>'$TMP/err'; [ \$? = 2 ] && grep -q 'must be a number' '$TMP/err'"
check "examples/shell/unowned-stages.sh" bash -c "
    examples/shell/unowned-stages.sh retailer > '$TMP/unowned' &&
    diff <(printf 'online-shopping/cart\tCart\nonline-shopping/delivery\tDelivery\nonline-shopping/support\tSupport and returns\n') '$TMP/unowned'"
check "examples fail with the engine's error for an unknown portfolio" bash -c "
    ! examples/shell/unowned-stages.sh nope 2>'$TMP/err' && grep -q -- '-32000' '$TMP/err'"
check "examples outside the checkout find twospeed-rpc on PATH, and say so when it is not there" bash -c "
    mkdir -p '$TMP/outside/bin' && cp examples/shell/list-products.sh '$TMP/outside/' && ln -sf '$RPC' '$TMP/outside/bin/twospeed-rpc' &&
    PATH='$TMP/outside/bin':\$PATH sh '$TMP/outside/list-products.sh' retailer | grep -q '^checkout	' &&
    env PATH=/usr/bin:/bin sh '$TMP/outside/list-products.sh' retailer 2>'$TMP/err'; [ \$? = 127 ] && grep -q 'twospeed-rpc not found' '$TMP/err'"

# --- the README's shell example, as written -------------------------------------------------------------
awk '$0 == "```shell" {on=1; next} on && $0 == "```" {exit} on {print}' README.md > "$TMP/readme.sh"
check "README shell example runs" bash -c "cd '$ROOT' && TWOSPEED_SOCKET='$SOCK' sh -e '$TMP/readme.sh' > '$TMP/readme.out' 2>&1"
check "README shell example shows the products and the reply" bash -c "
    grep -q 'checkout' '$TMP/readme.out' && grep -q '\"abiVersion\":1' '$TMP/readme.out'"

# --- access by peer credentials --------------------------------------------------------------------------
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
RPC_NOBODY=$SHARED_RPC   # nobody cannot be assumed to reach the checkout
start_daemon open --socket-mode 0666 || exit 1
check "socket mode 0600 by default, 0666 when told" bash -c "
    [ \$(stat -c %a '$SOCK') = 600 ] && [ \$(stat -c %a '$TMP/open.sock') = 666 ]"
start_daemon storemode --store-mode 0640 || exit 1
check "store files 0600 by default (-wal and -shm too), 0640 with --store-mode" bash -c "
    umask 022; for f in '$TMP/open.sqlite' '$TMP/open.sqlite-wal' '$TMP/open.sqlite-shm'; do
        [ \$(stat -c %a \"\$f\") = 600 ] || { echo \"\$f: \$(stat -c %a \"\$f\")\"; exit 1; }; done
    for f in '$TMP/storemode.sqlite' '$TMP/storemode.sqlite-wal' '$TMP/storemode.sqlite-shm'; do
        [ \$(stat -c %a \"\$f\") = 640 ] || { echo \"\$f: \$(stat -c %a \"\$f\")\"; exit 1; }; done"
check "--store-mode must be octal" bash -c "! '$DAEMON' --socket '$TMP/bad.sock' --db '$TMP/bad.sqlite' --store-mode 0999 2>'$TMP/err' &&
    grep -q 'store-mode' '$TMP/err'"
check "a peer refused by uid (nobody) gets one error reply, then end of file" bash -c "
    cd '$TMP' && printf '%s\n' '$REQ' '$REQ' | ${AS_NOBODY[*]} socat -t 10 - UNIX-CONNECT:'$TMP/open.sock' > '$TMP/refused' &&
    [ \$(wc -l < '$TMP/refused') = 1 ] && jq -e '.error.code == -32010 and .error.data.uid == 65534' '$TMP/refused' &&
    grep -q 'peer refused' '$TMP/open.log'"
check "twospeed-rpc as a refused peer exits 1" bash -c "
    cd '$TMP' && ${AS_NOBODY[*]} '$RPC_NOBODY' -s '$TMP/open.sock' engine.info 2>'$TMP/err'; [ \$? = 1 ] && jq -e '.code == -32010' '$TMP/err'"
start_daemon ro --socket-mode 0666 --read-only-uid nobody || exit 1
"$CLI" import --socket "$TMP/ro.sock" examples/portfolios/retailer.json >/dev/null
check "a read-only peer (nobody) may read" bash -c "
    cd '$TMP' && ${AS_NOBODY[*]} '$RPC_NOBODY' -s '$TMP/ro.sock' -c portfolio.list | jq -e '.portfolios[0].id == \"retailer\"'"
check "a read-only peer calling a write method gets -32004" bash -c "
    cd '$TMP' && ${AS_NOBODY[*]} '$RPC_NOBODY' -s '$TMP/ro.sock' portfolio.delete '{\"id\":\"retailer\"}' 2>'$TMP/err'; [ \$? = 1 ] &&
    jq -e '.code == -32004 and .data.method == \"portfolio.delete\"' '$TMP/err' &&
    '$CLI' call --socket '$TMP/ro.sock' portfolio.get '{\"id\":\"retailer\"}' >/dev/null"
check "the owner is not read-only" bash -c "
    '$CLI' call --socket '$TMP/ro.sock' portfolio.delete '{\"id\":\"retailer\"}' | jq -e '.deleted'"

# --- access by supplementary groups (real users) ---------------------------------------------------------
# Two throwaway users: IN is in the group G only as a supplementary group (its primary group is nogroup),
# OUT is in no group of ours. Removed by the EXIT trap.
TAG=$(printf '%s%04x' "$$" "$RANDOM" | tail -c 8)
G=ts-test-g-$TAG U_IN=ts-test-in-$TAG U_OUT=ts-test-out-$TAG
make_users() {
    groupadd "$G" && GROUPS_MADE+=("$G") &&
    useradd -M -N -g nogroup -s /usr/sbin/nologin "$U_IN" && USERS_MADE+=("$U_IN") &&
    useradd -M -N -g nogroup -s /usr/sbin/nologin "$U_OUT" && USERS_MADE+=("$U_OUT") &&
    usermod -aG "$G" "$U_IN"
}
if make_users; then
    AS_IN=(setpriv --reuid="$U_IN" --regid=nogroup --init-groups)
    AS_OUT=(setpriv --reuid="$U_OUT" --regid=nogroup --init-groups)
    start_daemon grp --socket-mode 0666 --allow-gid "$G" || exit 1
    check "a peer whose allowed group is supplementary only is served" bash -c "
        cd '$TMP' && id '$U_IN' | grep >/dev/null '($G)' && [ \"\$(id -gn '$U_IN')\" = nogroup ] &&
        printf '%s\n' '$REQ' | ${AS_IN[*]} socat -t 10 - UNIX-CONNECT:'$TMP/grp.sock' > '$TMP/grp-in' &&
        jq -e '.result.abiVersion == 1' '$TMP/grp-in' || { echo 'the peer in $G saw:'; cat '$TMP/grp-in'; exit 1; }"
    check "a peer without the group is refused with -32010, its groups named" bash -c "
        cd '$TMP' && printf '%s\n' '$REQ' | ${AS_OUT[*]} socat -t 10 - UNIX-CONNECT:'$TMP/grp.sock' > '$TMP/grp-out';
        jq -e --argjson u \$(id -u '$U_OUT') '.error.code == -32010 and .error.data.uid == \$u and .error.data.groups == [65534]' '$TMP/grp-out' ||
            { echo 'the peer outside $G saw:'; cat '$TMP/grp-out'; exit 1; }"
    start_daemon grpro --socket-mode 0666 --read-only-gid "$G" || exit 1
    check "--read-only-gid matches a supplementary group: reads served, writes get -32004" bash -c "
        cd '$TMP' && ${AS_IN[*]} '$RPC_NOBODY' -s '$TMP/grpro.sock' -c portfolio.list | jq -e '.portfolios == []' &&
        ${AS_IN[*]} '$RPC_NOBODY' -s '$TMP/grpro.sock' portfolio.delete '{\"id\":\"x\"}' 2>'$TMP/err'; [ \$? = 1 ] &&
        jq -e '.code == -32004' '$TMP/err'"
else
    failed=$((failed + 1)); echo "FAIL cannot create the test users and group (useradd, groupadd; run as root)"
fi

# --- limits ---------------------------------------------------------------------------------------------------
start_daemon small --max-message-bytes 1000 --max-clients 3 --log-level debug || exit 1
check "an oversized message gets -32003 with data.limit, then the connection closes" bash -c "
    { printf '{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"params\":{\"pad\":\"'; head -c 5000 /dev/zero | tr '\\\\0' x; printf '\"},\"id\":1}\n'; printf '%s\n' '$REQ'; } |
    socat -t 10 - UNIX-CONNECT:'$TMP/small.sock' > '$TMP/big' &&
    [ \$(wc -l < '$TMP/big') = 1 ] && jq -e '.error.code == -32003 and .error.data.limit == 1000' '$TMP/big'"
check "the extra client over --max-clients gets -32011" bash -c "
    wait_open '$TMP/small.log' 0 || exit 1
    for i in 1 2 3; do socat -u UNIX-CONNECT:'$TMP/small.sock' /dev/null & done
    wait_open '$TMP/small.log' 3 || exit 1
    printf '%s\n' '$REQ' | socat -t 5 - UNIX-CONNECT:'$TMP/small.sock' > '$TMP/extra'; kill \$(jobs -p)
    jq -e '.error.code == -32011 and .error.data.limit == 3 and .error.data.option == \"--max-clients\"' '$TMP/extra' ||
        { echo 'the fourth client saw:'; cat '$TMP/extra'; exit 1; }"
start_daemon idle --idle-timeout 1 || exit 1
check "an idle connection is closed after --idle-timeout" bash -c "
    start=\$(date +%s%N); socat -u UNIX-CONNECT:'$TMP/idle.sock' - ; end=\$(date +%s%N);
    [ \$(( (end - start) / 1000000 )) -lt 10000 ] && grep -q 'idle for 1 s' '$TMP/idle.log'"

# --- no one uid holds every slot ---------------------------------------------------------------------------
# One uid (root) opens 2,000 connections that each send half a message and stall; another, a real user,
# must still be served at once, and the stalled connections must be answered and closed after
# --message-timeout. The daemon needs a descriptor per connection: it is started with systemd's default
# soft limit (1024) and must raise it itself; the clients' script raises its own.
cat > "$TMP/stall_clients.py" <<'PY'
import json, os, resource, selectors, socket, subprocess, sys, time
path, other, n, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 200)), hard))
problems = []
conns, opened = [], {}
t0 = time.monotonic()
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)   # blocking: with the backlog full, a non-blocking connect says EAGAIN
    s.settimeout(20)
    s.sendall(b'{"jsonrpc":"2.0","method":"engine.info","par')   # half a message, no line end
    opened[s.fileno()] = time.monotonic()
    conns.append(s)
print("%d connections opened and stalled in %.2f s" % (n, time.monotonic() - t0))
req = b'{"jsonrpc":"2.0","method":"engine.info","id":7}\n'
start = time.monotonic()
p = subprocess.run(["setpriv", "--reuid=" + other, "--regid=nogroup", "--clear-groups",
                    "socat", "-t", "10", "-", "UNIX-CONNECT:" + path], input=req, capture_output=True, timeout=30)
took = time.monotonic() - start
print("the other uid's request took %.3f s: %s" % (took, p.stdout.decode(errors="replace").strip()[:200]))
try:
    served = "result" in json.loads(p.stdout)
except ValueError:
    served = False
if not served:
    problems.append("the other uid was not served: %r %r" % (p.stdout[:300], p.stderr[:300]))
if took > 3:
    problems.append("the other uid waited %.1f s" % took)
# Every stalled connection gets one error reply and then end of file: -32600 after the message timeout
# for those served, -32011 at once for those over --max-clients-per-uid.
sel = selectors.DefaultSelector()
got = {}
for s in conns:
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    got[s.fileno()] = b""
ended = {}
deadline = time.monotonic() + timeout + 15
while len(ended) < n and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if data:
            got[s.fileno()] += data
        else:
            ended[s.fileno()] = time.monotonic()
            sel.unregister(s)
codes = {}
for s in conns:
    fd = s.fileno()
    lines = got[fd].splitlines()
    if fd not in ended:
        problems.append("a stalled connection was never closed (it received %r)" % got[fd][:200])
        continue
    if len(lines) != 1:
        problems.append("a stalled connection received %r" % got[fd][:300])
        continue
    err = json.loads(lines[0]).get("error", {})
    codes[err.get("code")] = codes.get(err.get("code"), 0) + 1
    if err.get("code") == -32600:
        held = ended[fd] - opened[fd]
        if held < timeout - 0.1:
            problems.append("closed after %.2f s, before the %.0f s message timeout" % (held, timeout))
        if "--message-timeout" not in err.get("data", {}).get("reason", ""):
            problems.append("the timeout reply does not say why: %r" % err)
    elif err.get("code") == -32011:
        if err.get("data", {}).get("option") != "--max-clients-per-uid":
            problems.append("the refusal does not name the limit: %r" % err)
    else:
        problems.append("unexpected reply %r" % lines[0][:300])
print("replies to the stalled connections by code: %s; closed %d of %d" % (codes, len(ended), n))
if not codes.get(-32600) or not codes.get(-32011):
    problems.append("expected both timed-out (-32600) and refused (-32011) connections")
for p in problems[:10]:
    print("problem:", p)
sys.exit(1 if problems else 0)
PY
chmod 0755 "$TMP/stall_clients.py"
if [ "${#USERS_MADE[@]}" -ge 2 ]; then
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] || [ "$hard" -ge 8192 ] || ulimit -Hn 8192 || echo "cannot raise the hard open files limit ($hard)"
    soft=$(ulimit -Sn); ulimit -Sn 1024
    start_daemon slots --socket-mode 0666 --allow-uid root --allow-uid "$U_OUT" --message-timeout 1 || exit 1
    ulimit -Sn "$soft"
    check "twospeedd raises its open files limit to the hard limit" bash -c "
        grep '^Max open files' /proc/$DPID/limits | awk '{ exit !(\$4 == \$5 && \$4 > 1024) }' ||
        { grep '^Max open files' /proc/$DPID/limits; exit 1; }"
    check "2,000 stalled connections of one uid: another uid is served at once, the stalled ones closed after --message-timeout" \
        timeout 120 python3 "$TMP/stall_clients.py" "$TMP/slots.sock" "$U_OUT" 2000 1
    check "the daemon logged the timeouts and the per-uid refusals" bash -c "
        grep -q 'message not finished within 1 s' '$TMP/slots.log' && grep -q 'too many clients of one uid' '$TMP/slots.log'"
fi
check "twospeedd --help documents --message-timeout and --max-clients-per-uid" bash -c "
    '$DAEMON' --help | grep >/dev/null -- '--message-timeout' && '$DAEMON' --help | grep >/dev/null -- '--max-clients-per-uid' &&
    '$DAEMON' --help | grep >/dev/null 'supplementary'"
check "twospeedd refuses --max-clients-per-uid 0 and a negative --message-timeout" bash -c "
    ! '$DAEMON' --socket '$TMP/x.sock' --db :memory: --max-clients-per-uid 0 2>'$TMP/err' && grep -q 'max-clients-per-uid' '$TMP/err' &&
    ! '$DAEMON' --socket '$TMP/x.sock' --db :memory: --message-timeout -1 2>'$TMP/err' && [ ! -e '$TMP/x.sock' ]"

# --- the socket is created without a window ---------------------------------------------------------------------
# The socket's folder belongs to nobody, who keeps replacing the socket with a symlink to a file of root's
# (0644) while the daemon, root, starts 50 times. strace, when present, holds each bind() for 20 ms so
# that every start has the window a chmod-by-path would leave wide open; the file's mode must not change.
socket_race() {
    local d=$TMP/race dp i mode swaps replaced served slow=()
    mkdir -p "$d/sockdir" "$d/victim" && chown nobody "$d/sockdir" || return 1
    echo secret > "$d/victim/file" && chmod 0644 "$d/victim/file"
    cat > "$TMP/swap_socket.py" <<'PY'
import os, stat, sys
sock, target, stop = sys.argv[1:4]
tmp, swaps = sock + ".swap", 0
open(sock + ".ready", "w").close()
while not os.path.exists(stop):
    try:
        st = os.lstat(sock)
    except FileNotFoundError:
        continue
    if stat.S_ISSOCK(st.st_mode):   # only a new socket: the daemon's start finds the path free
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(target, tmp)
        os.rename(tmp, sock)
        swaps += 1
print(swaps)
PY
    chmod 0755 "$TMP/swap_socket.py"
    [ -n "$OTHERS_PYTHON" ] || { echo "no python3 that nobody may run"; return 1; }
    (cd "$TMP" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$OTHERS_PYTHON" "$TMP/swap_socket.py" \
        "$d/sockdir/d.sock" "$d/victim/file" "$d/stop" > "$d/swaps") &
    local apid=$!
    wait_until 10 "the attacker to start" test -e "$d/sockdir/d.sock.ready" || return 1
    command -v strace >/dev/null && slow=(strace -f -qq -o /dev/null -e trace=bind -e inject=bind:delay_exit=20000)
    [ ${#slow[@]} -gt 0 ] || echo "(strace is missing: the race is left to chance)"
    for i in $(seq 50); do
        rm -f "$d/sockdir/d.sock"
        "${slow[@]}" "$DAEMON" --socket "$d/sockdir/d.sock" --db :memory: --socket-mode 0666 2>"$d/log.$i" &
        dp=$!
        # Settled: the daemon gave up, or listens (on the path or on a socket swapped away), or the harm is done.
        settled() { ! kill -0 "$dp" 2>/dev/null || grep -qs 'listening' "$d/log.$i" || [ "$(stat -c %a "$d/victim/file")" != 644 ]; }
        wait_until 20 "twospeedd to listen or exit (start $i)" settled || { cat "$d/log.$i"; break; }
        # Under strace the daemon is strace's child.
        kill -TERM $(pgrep -P "$dp") "$dp" 2>/dev/null; wait "$dp" 2>/dev/null
        mode=$(stat -c %a "$d/victim/file")
        if [ "$mode" != 644 ]; then echo "start $i: the mode of root's file became $mode"; break; fi
    done
    touch "$d/stop"; wait "$apid"
    swaps=$(cat "$d/swaps"); replaced=$(cat "$d"/log.* | grep -c 'was replaced'); served=$(cat "$d"/log.* | grep -c 'listening')
    echo "$i starts: the socket was swapped for a symlink $swaps times; $replaced starts refused the swapped path, $served served"
    [ "$(stat -c %a "$d/victim/file")" = 644 ] && [ "$i" = 50 ] && [ "$swaps" -gt 0 ]
}
check "a symlink swapped in for the new socket: the mode of the file it points to never changes" socket_race
umask 000; start_daemon mode1 || exit 1
umask 077; start_daemon mode2 --socket-mode 0660 || exit 1
umask 022
check "the socket gets exactly the configured mode, whatever the umask" bash -c "
    [ \$(stat -c %a '$TMP/mode1.sock') = 600 ] && [ \$(stat -c %a '$TMP/mode2.sock') = 660 ] ||
    { stat -c '%n %a' '$TMP'/mode?.sock; exit 1; }"

# --- lifecycle ----------------------------------------------------------------------------------------------------
check "a second daemon on a live socket fails with a clear message" bash -c "
    ! '$DAEMON' --socket '$SOCK' --db '$TMP/second.sqlite' 2>'$TMP/err' && grep -q 'another daemon is listening' '$TMP/err'"
# Writers append observations through twospeed-rpc, each noting what was acknowledged; SIGTERM comes
# in the middle.
: > "$TMP/acked"
WRITERS=()
for w in 1 2 3 4; do
    ( for k in $(seq 1000); do
          "$RPC" -c metric.observe "{\"portfolio\":\"retailer\",\"metric\":\"payment-release-speed\",\"observations\":[{\"at\":\"2026-12-03\",\"value\":$k,\"source\":\"term-$w\"}]}" >/dev/null 2>&1 || break
          echo "term-$w $k" >> "$TMP/acked"
      done ) &
    WRITERS+=($!)
done
# SIGTERM once every writer has had a few writes acknowledged.
writers_going() { for w in 1 2 3 4; do [ "$(grep -c "^term-$w " "$TMP/acked")" -ge 3 ] || return 1; done; }
wait_until 60 "every writer to have 3 writes acknowledged" writers_going || { echo "acknowledged:"; sort "$TMP/acked" | cut -d' ' -f1 | uniq -c; }
kill -TERM "$MAIN_PID"
wait "$MAIN_PID"
term_status=$?
wait "${WRITERS[@]}"
check "SIGTERM during load: exit 0, socket removed, store closed" bash -c "
    [ $term_status = 0 ] && [ ! -e '$SOCK' ] && [ ! -e '$TMP/main.sqlite-wal' ] && grep -q 'stopping: SIGTERM' '$TMP/main.log' &&
    [ \$(wc -l < '$TMP/acked') -gt 0 ]"
start_daemon main || exit 1
check "restart on the same store finds everything acknowledged" bash -c "
    '$CLI' call --compact entity.get '{\"portfolio\":\"retailer\",\"kind\":\"metric\",\"id\":\"payment-release-speed\"}' |
      jq -r '.entity.observations[] | \"\(.source) \(.value)\"' | sort > '$TMP/stored' &&
    sort '$TMP/acked' | comm -23 - '$TMP/stored' > '$TMP/lost' && [ ! -s '$TMP/lost' ] &&
    '$CLI' call --compact portfolio.get '{\"id\":\"retailer\"}' | jq -e '.portfolio.products | length == 5'"
# The units as written: the service's ExecStart (binary and store moved here) started the way systemd
# starts it, with a listening socket as fd 3 and LISTEN_PID set to the daemon's own pid.
socket_activation() {
    grep -qx 'ListenStream=/run/twospeed/twospeed.sock' examples/systemd/twospeedd.socket || return 1
    local cmd
    cmd=$(sed -n 's/^ExecStart=//p' examples/systemd/twospeedd.service |
          sed -e "s|/usr/local/bin/twospeedd|$DAEMON|" -e "s|/var/lib/twospeed/store.sqlite|$TMP/unit.sqlite|" \
              -e 's|--allow-gid twospeed |--allow-gid root |' -e 's|--read-only-gid twospeed-readers|--read-only-gid nogroup|')
    # shellcheck disable=SC2086
    python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)
if s.fileno() != 3: os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.execvp("sh", ["sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$@\"", "sh"] + sys.argv[2:])' "$TMP/unit.sock" $cmd 2>"$TMP/unit.log" &
    local upid=$! r
    PIDS+=("$upid")
    for _ in $(seq 200); do "$CLI" call --socket "$TMP/unit.sock" engine.info >/dev/null 2>&1 && break; sleep 0.05; done
    "$CLI" call --socket "$TMP/unit.sock" engine.info | jq -e --arg p "$TMP/unit.sqlite" '.store.path == $p'
    r=$?
    kill -TERM "$upid"
    wait "$upid" || { echo "twospeedd exited with $?"; cat "$TMP/unit.log"; return 1; }
    [ $r = 0 ] && grep -q 'fd 3 from systemd' "$TMP/unit.log" && [ -S "$TMP/unit.sock" ]
}
check "systemd units: socket activation with the service's own command line" socket_activation

# --- twospeed report of a portfolio where it lives, with the trend of its kept runs -------------
check "twospeed report --socket --portfolio: the daemon's kept runs, with the trend" bash -c "
    for a in 2 4 5; do '$CLI' call assessment.run \"{\\\"portfolio\\\":\\\"retailer\\\",\\\"answers\\\":[{\\\"criterion\\\":\\\"culture.outcomes\\\",\\\"score\\\":\$a}]}\" >/dev/null || exit 1; done &&
    runs=\$('$CLI' call --compact assessment.history '{\"portfolio\":\"retailer\"}' | jq '.runs | length') &&
    '$CLI' report --socket '$SOCK' --portfolio retailer -o '$TMP/held.html' &&
    grep -q '<section id=\"trend\"' '$TMP/held.html' && grep -q '<svg class=\"chart trend\"' '$TMP/held.html' &&
    [ \$(grep -o '<text[^>]*>run [0-9]*</text>' '$TMP/held.html' | wc -l) = \$runs ] &&
    env -u TWOSPEED_SOCKET '$CLI' report --socket '$SOCK' --portfolio retailer --run 2 -o '$TMP/held.md' &&
    [ \$(sed -n '/^## Trend/,/^## /p' '$TMP/held.md' | grep -c '^| [0-9]* |') = 2 ] &&
    '$CLI' report --portfolio retailer --format text > '$TMP/held.txt' && grep -q 'Two-speed architecture' '$TMP/held.txt'"
check "twospeed report --db --portfolio: a store's kept runs" bash -c "
    '$CLI' import --db '$TMP/rep.sqlite' examples/portfolios/telco.json >/dev/null &&
    for i in 1 2; do '$CLI' call --db '$TMP/rep.sqlite' assessment.run '{\"portfolio\":\"telco\"}' >/dev/null || exit 1; done &&
    '$CLI' report --db '$TMP/rep.sqlite' --portfolio telco -o '$TMP/telco.md' && grep -q '^## Trend' '$TMP/telco.md'"
check "twospeed report --portfolio: wrong usage is exit 2, an unknown portfolio exit 1" bash -c "
    { '$CLI' report examples/portfolios/telco.json --portfolio telco 2>'$TMP/err'; [ \$? = 2 ]; } && grep -q 'not both' '$TMP/err' &&
    { '$CLI' report examples/portfolios/telco.json --socket '$SOCK' 2>'$TMP/err'; [ \$? = 2 ]; } && grep -q 'go with --portfolio' '$TMP/err' &&
    { '$CLI' report 2>'$TMP/err'; [ \$? = 2 ]; } &&
    { '$CLI' report --portfolio retailer --model-file x.json 2>'$TMP/err'; [ \$? = 2 ]; } &&
    { '$CLI' report --portfolio nope 2>'$TMP/err'; [ \$? = 1 ]; } && jq -e '.code == -32000' '$TMP/err'"

# --- twospeed assess and plugins in the daemon --------------------------------------------------
check "twospeed assess prints the telco's table, pitfalls and next steps" bash -c "
    '$CLI' assess examples/portfolios/telco.json > '$TMP/assess.out' &&
    grep -qE '^Customer-centric organization +1\.[0-9]{2} +2 emerging' '$TMP/assess.out' &&
    grep -q '\[high\] Product silos' '$TMP/assess.out' && grep -q '^What to do next' '$TMP/assess.out'"
check "twospeed assess --json prints the result" bash -c "
    '$CLI' assess --json --compact examples/portfolios/retailer.json | jq -e '.overall.level >= 1 and (.pitfalls | length) >= 7'"
check "twospeed assess --model-file with a custom model" bash -c "
    '$CLI' assess --json --model-file examples/models/dora-2024.json --model dora-2024 examples/portfolios/bank.json |
    jq -e '.model.id == \"dora-2024\" and (.dimensions | length) == 3'"
check "twospeed assess --plugins adds the plugins' findings" bash -c "
    '$CLI' assess --plugins examples/plugins examples/portfolios/bank.json | grep >/dev/null 'Oversized teams (plugin team-size-check)'"
check "twospeed assess --plugins runs a wasm plugin" bash -c "
    '$CLI' assess --plugins examples/wasm examples/portfolios/bank.json | grep >/dev/null 'Oversized teams (plugin team-size-check-wasm)'"
check "twospeed assess: exit 1 on an invalid portfolio, 2 on a missing file" bash -c "
    echo '{}' | '$CLI' assess - 2>'$TMP/err'; [ \$? = 1 ] && grep -q '/portfolio/id' '$TMP/err' &&
    [ \$('$CLI' assess '$TMP/absent.json' >/dev/null 2>&1; echo \$?) = 2 ]"
check "twospeed report -o FILE.html writes the HTML report of a portfolio" bash -c "
    out=\$('$CLI' report examples/portfolios/retailer.json -o '$TMP/report.html') && [ -z \"\$out\" ] &&
    head -1 '$TMP/report.html' | grep -qx '<!DOCTYPE html>' && grep -q '<svg class=\"chart radar\"' '$TMP/report.html' &&
    grep -q '<section id=\"coverage\"' '$TMP/report.html'"
check "twospeed report -o FILE.md writes Markdown tables" bash -c "
    '$CLI' report examples/portfolios/bank.json -o '$TMP/report.md' &&
    head -1 '$TMP/report.md' | grep -qx '# National State Bank: two-speed operating model assessment' &&
    grep -q '^| Dimension | Score | 1 to 5 | Level | Evidence |$' '$TMP/report.md'"
check "twospeed report prints text without -o, --format overrides the extension" bash -c "
    '$CLI' report examples/portfolios/telco.json > '$TMP/report-text' &&
    head -1 '$TMP/report-text' | grep -x 'Triline Communications: two-speed operating model assessment' &&
    '$CLI' report examples/portfolios/telco.json --format markdown -o '$TMP/report.txt' && head -c 2 '$TMP/report.txt' | grep -qx '# '"
check "twospeed report renders a result file, overlaid with --previous" bash -c "
    '$CLI' assess --json examples/portfolios/retailer.json > '$TMP/result.json' &&
    '$CLI' report '$TMP/result.json' --format html > '$TMP/plain.html' && ! grep -q '<polygon class=\"series previous\"' '$TMP/plain.html' &&
    '$CLI' report '$TMP/result.json' --previous '$TMP/result.json' --format html > '$TMP/overlaid.html' &&
    [ \$(grep -c '<polygon class=\"series previous\"' '$TMP/overlaid.html') = 1 ] &&
    '$CLI' report - --format markdown < '$TMP/result.json' > '$TMP/result.md' && grep -q '^## Pitfalls$' '$TMP/result.md'"
check "twospeed report: exit 2 on wrong usage, 1 on an invalid portfolio" bash -c "
    [ \$('$CLI' report examples/portfolios/retailer.json --format pdf >/dev/null 2>&1; echo \$?) = 2 ] &&
    [ \$('$CLI' report '$TMP/absent.json' >/dev/null 2>&1; echo \$?) = 2 ] &&
    [ \$('$CLI' report '$TMP/result.json' --previous examples/portfolios/bank.json >/dev/null 2>&1; echo \$?) = 2 ] &&
    [ \$('$CLI' report '$TMP/result.json' --model twospeed-default >/dev/null 2>&1; echo \$?) = 2 ] &&
    [ \$('$CLI' report examples/portfolios/retailer.json -o '$TMP/absent/r.html' >/dev/null 2>&1; echo \$?) = 2 ] || exit 1
    echo '{}' | '$CLI' report - 2>'$TMP/err'; [ \$? = 1 ] && grep -q '/portfolio/id' '$TMP/err'"
start_daemon plugged --plugins "$ROOT/examples/plugins" || exit 1
check "twospeedd --plugins: the three example plugins are ready" bash -c "
    '$RPC' -s '$TMP/plugged.sock' plugin.list | jq -e '[.plugins[] | select(.status == \"ready\")] | length == 3'"
check "twospeedd --plugins: check plugins' findings join assessment.run" bash -c "
    '$CLI' import --socket '$TMP/plugged.sock' examples/portfolios/bank.json >/dev/null &&
    '$RPC' -s '$TMP/plugged.sock' assessment.run '{\"portfolio\":\"state-bank\"}' |
    jq -e '[.pitfalls[] | select(.plugin)] | map(.plugin) | sort == [\"team-size-check\", \"unowned-systems\"]'"
check "twospeedd --plugins: the metrics plugin feeds observations" bash -c "
    '$CLI' import --socket '$TMP/plugged.sock' examples/portfolios/retailer.json >/dev/null &&
    '$RPC' -s '$TMP/plugged.sock' plugin.collect '{\"plugin\":\"csv-metrics\",\"portfolio\":\"retailer\"}' | jq -e '.appended == 5'"
start_daemon wasm --plugins "$ROOT/examples/wasm" || exit 1
check "twospeedd --plugins: a wasm plugin's finding joins assessment.run, and plugin.list counts its fuel" bash -c "
    '$CLI' import --socket '$TMP/wasm.sock' examples/portfolios/bank.json >/dev/null &&
    '$RPC' -s '$TMP/wasm.sock' assessment.run '{\"portfolio\":\"state-bank\",\"keep\":false}' |
    jq -e '[.pitfalls[] | select(.plugin)] | map(.plugin) == [\"team-size-check-wasm\"]' &&
    '$RPC' -s '$TMP/wasm.sock' plugin.list | jq -e '.plugins[0].wasm.usage | .calls == 1 and .fuelSpent > 0 and .traps == 0'"

# --- who may load plugins: administrators only, and only from the --plugins folder ------------------------
mkdir -p "$TMP/adm-plugins/marker" "$TMP/adm-outside"
for d in "$TMP/adm-plugins/marker" "$TMP/adm-outside"; do
    printf '#!/bin/sh\necho started >> "%s/started"\nexec cat >/dev/null\n' "$d" > "$d/plugin.sh"
    chmod 0755 "$d/plugin.sh"
    echo '{"name": "marker2", "version": "1", "kind": "process", "path": "plugin.sh", "extensionPoints": ["check"]}' > "$d/plugin2.json"
done
LOAD_IN="{\"manifest\":\"$TMP/adm-plugins/marker/plugin2.json\"}"
LOAD_OUT="{\"manifest\":\"$TMP/adm-outside/plugin2.json\"}"
start_daemon admwriter --socket-mode 0666 --allow-uid root --allow-uid nobody --plugins "$TMP/adm-plugins" || exit 1
check "plugin.load from a writer (nobody) who is not an administrator: -32004, nothing started" bash -c "
    cd '$TMP' && ${AS_NOBODY[*]} '$RPC_NOBODY' -s '$TMP/admwriter.sock' plugin.load '$LOAD_IN' 2>'$TMP/err'; [ \$? = 1 ] &&
    jq -e '.code == -32004 and (.data.reason | contains(\"administrators\"))' '$TMP/err' &&
    [ ! -e '$TMP/adm-plugins/marker/started' ] && [ -z \"\$(cat /proc/$DPID/task/*/children)\" ]"
start_daemon admnobody --socket-mode 0666 --allow-uid root --allow-uid nobody --admin-uid nobody --plugins "$TMP/adm-plugins" || exit 1
check "plugin.load from an administrator (nobody) of a manifest outside the folder: -32004, nothing started" bash -c "
    cd '$TMP' && ${AS_NOBODY[*]} '$RPC_NOBODY' -s '$TMP/admnobody.sock' plugin.load '$LOAD_OUT' 2>'$TMP/err'; [ \$? = 1 ] &&
    jq -e '.code == -32004 and (.data.reason | contains(\"plugin folders\"))' '$TMP/err' &&
    [ ! -e '$TMP/adm-outside/started' ] && [ -z \"\$(cat /proc/$DPID/task/*/children)\" ]"
check "plugin.load from an administrator (nobody) of a manifest inside the folder starts it" bash -c "
    cd '$TMP' && ${AS_NOBODY[*]} '$RPC_NOBODY' -s '$TMP/admnobody.sock' plugin.load '$LOAD_IN' | jq -e '.name == \"marker2\"' &&
    for _ in \$(seq 100); do [ -e '$TMP/adm-plugins/marker/started' ] && exit 0; sleep 0.05; done; exit 1"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
