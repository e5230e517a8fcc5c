#!/usr/bin/env bash
# examples/systemd as an operator deploys it: systemd-analyze rates the service's exposure at 2.5 or
# less; sysusers.d creates the user and groups that the unit and its ExecStart name, tmpfiles.d the state
# folder (both into a scratch root); and the daemon accepts the unit's ExecStart as written and serves.
# Skips, saying why, where systemd's tools are absent.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${TWOSPEED_BUILD:-$PWD/build}
UNITS=$ROOT/examples/systemd
SERVICE=$UNITS/twospeedd.service
MAX_EXPOSURE=2.5
TMP=$(mktemp -d)
GROUPS_MADE=()
DPID=
cleanup() {
    [ -z "$DPID" ] || { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
    for g in "${GROUPS_MADE[@]}"; do groupdel "$g" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
passed=0 failed=0 skipped=0
check() {
    local name=$1; shift
    if "$@" >"$TMP/out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$TMP/out" | head -30; fi
}
skip() { skipped=$((skipped + 1)); echo "skip $1: $2"; }

if command -v systemd-analyze >/dev/null; then
    systemd-analyze security --offline=yes "$SERVICE" >"$TMP/security" 2>&1
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$TMP/security")
    echo "systemd-analyze security --offline=yes twospeedd.service: ${score:-no score}"
    check "systemd-analyze security rates twospeedd.service at most $MAX_EXPOSURE" bash -c "
        [ -n '$score' ] && awk -v s='$score' -v m='$MAX_EXPOSURE' 'BEGIN { exit !(s + 0 <= m + 0) }' ||
        { grep -v '^✓' '$TMP/security'; exit 1; }"
    # verify checks that ExecStart's program exists and Documentation's man page opens: so the units
    # verify once make install has put twospeedd in place (here: build/bin/twospeedd bound at
    # /usr/local/bin/twospeedd in a mount namespace of the check's own), and their header says so.
    check "the units' header says that systemd-analyze verify wants make install first" \
        grep -q 'systemd-analyze verify' "$SERVICE"
    if unshare --mount --propagation private true 2>/dev/null; then
        check "systemd-analyze verify passes on both units with twospeedd installed" \
            unshare --mount --propagation private bash -c "
                mount -t tmpfs none /usr/local/bin && touch /usr/local/bin/twospeedd &&
                mount --bind '$BUILD/bin/twospeedd' /usr/local/bin/twospeedd &&
                systemd-analyze verify --man=no '$UNITS/twospeedd.socket' '$SERVICE' 2>&1 | tee /dev/stderr | { ! grep -q .; }"
    else
        skip "systemd-analyze verify" "unshare --mount is not allowed here"
    fi
else
    skip "systemd-analyze security" "systemd-analyze is not installed (Debian: apt-get install systemd)"
fi

# The groups the daemon is told about are the ones sysusers.d creates.
execstart=$(sed -n 's/^ExecStart=//p' "$SERVICE")
check "ExecStart passes the readers group with --read-only-gid, the writers with --allow-gid" bash -c "
    grep -q -- '--read-only-gid twospeed-readers' <<<'$execstart' && grep -q -- '--allow-gid twospeed' <<<'$execstart' &&
    grep -qx 'User=twospeed' '$SERVICE' && grep -qx 'Group=twospeed' '$SERVICE'"

if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
    mkdir -p "$TMP/root/etc"
    check "sysusers.d creates the user twospeed and the groups twospeed, twospeed-readers" bash -c "
        systemd-sysusers --root='$TMP/root' '$UNITS/twospeed.sysusers' &&
        grep -q '^twospeed:x:[0-9]*:[0-9]*:.*:/var/lib/twospeed:' '$TMP/root/etc/passwd' &&
        grep -q '^twospeed:x:' '$TMP/root/etc/group' && grep -q '^twospeed-readers:x:' '$TMP/root/etc/group'"
    check "tmpfiles.d creates /var/lib/twospeed, 0700, the daemon's" bash -c "
        systemd-tmpfiles --root='$TMP/root' --create '$UNITS/twospeed.tmpfiles' &&
        uid=\$(awk -F: '\$1 == \"twospeed\" {print \$3}' '$TMP/root/etc/passwd') &&
        [ \"\$(stat -c '%a %u' '$TMP/root/var/lib/twospeed')\" = \"700 \$uid\" ]"
else
    skip "sysusers.d and tmpfiles.d" "systemd-sysusers or systemd-tmpfiles is not installed"
fi

# The daemon takes the unit's ExecStart as written (store and socket moved to the scratch folder): the
# groups must exist to be named, so they are made here when missing, and removed after.
if [ "$(id -u)" = 0 ] && command -v groupadd >/dev/null; then
    for g in twospeed twospeed-readers; do
        getent group "$g" >/dev/null || { groupadd --system "$g" && GROUPS_MADE+=("$g"); }
    done
    read -r -a args <<<"$execstart"
    args=("$BUILD/bin/twospeedd" "${args[@]:1}" --socket "$TMP/unit.sock")
    for i in "${!args[@]}"; do [ "${args[$i]}" = --db ] && args[$((i + 1))]=$TMP/store.sqlite; done
    "${args[@]}" 2>"$TMP/daemon.log" &
    DPID=$!
    for _ in $(seq 200); do [ -S "$TMP/unit.sock" ] && break; kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
    check "twospeedd starts with the unit's ExecStart and serves" bash -c "
        '$BUILD/bin/twospeed' call --socket '$TMP/unit.sock' --compact engine.info | grep -q '\"version\"' ||
        { cat '$TMP/daemon.log'; exit 1; }"
else
    skip "the unit's ExecStart" "creating the groups it names needs root and groupadd"
fi

echo "systemd: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
