#!/usr/bin/env bash
# `make install` into a scratch DESTDIR: the library is stripped and still loads, both headers and the
# pkg-config file are there, a C program built from the installed copy alone runs, and `make uninstall`
# takes it all away again. Run from the repository root (make test-install).
set -euo pipefail
MAKE=${MAKE:-make}
PREFIX=/usr/local
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
failures=0
fail() { echo "FAIL test_install: $*" >&2; failures=$((failures + 1)); }

$MAKE -s install DESTDIR="$dest" PREFIX="$PREFIX" >/dev/null
root=$dest$PREFIX
lib=$(ls "$root"/lib/libtwospeed.so.*.*.* 2>/dev/null | head -1)
[ -n "$lib" ] || { echo "FAIL test_install: no libtwospeed.so.X.Y.Z in $root/lib:" >&2; ls -lR "$dest" >&2; exit 1; }

# Stripped: no static symbol table and no debug info left; the dynamic symbols stay, or nothing links.
sections=$(readelf -S -W "$lib")
if grep -qE ' \.symtab | \.debug_' <<<"$sections"; then
    fail "$lib is not stripped: $(grep -oE '\.(symtab|debug_[a-z_]+)' <<<"$sections" | tr '\n' ' ')"
    command -v file >/dev/null && echo "  file: $(file -b "$lib")" >&2
fi
echo "installed $(basename "$lib"): $(stat -c %s "$lib") bytes (build/lib: $(stat -L -c %s build/lib/$(basename "$lib")) bytes)"

for h in twospeed.h twospeed_plugin.h; do
    [ -f "$root/include/$h" ] || fail "$root/include/$h is missing"
done
for l in libtwospeed.so libtwospeed.so.0; do
    [ -e "$root/lib/$l" ] || fail "the link $root/lib/$l is missing or dangling"
done
[ -f "$root/lib/pkgconfig/twospeed.pc" ] || fail "$root/lib/pkgconfig/twospeed.pc is missing"

# Man pages: all four, rendered by groff without a warning; twospeed(3) names every function and
# constant of the installed header, at its version.
share=$root/share
for page in man1/twospeed.1 man1/twospeed-rpc.1 man8/twospeedd.8 man3/twospeed.3; do
    if [ ! -s "$share/man/$page" ]; then fail "$share/man/$page is missing"; continue; fi
    warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$share/man/$page" 2>&1)
    [ -z "$warnings" ] || fail "groff warns about $page: $warnings"
    grep -q "^\.SH SEE ALSO" "$share/man/$page" || fail "$page has no SEE ALSO"
done
version=$(sed -n 's/^#define TWOSPEED_VERSION *"\(.*\)"/\1/p' "$root/include/twospeed.h")
grep -q "^\.TH TWOSPEED 3 \"\" \"TwoSpeed $version\"" "$share/man/man3/twospeed.3" || fail "twospeed(3) is not at version $version"
# (The include guard TWOSPEED_H is no constant; a #define with a value is.)
for name in $(sed -n 's/^[A-Za-z][^(]*[ *]\(twospeed_[A-Za-z0-9_]*\)(.*/\1/p; s/^#define \(TWOSPEED_[A-Z0-9_]*\) .*/\1/p' "$root/include/twospeed.h"); do
    grep -qw "$name" "$share/man/man3/twospeed.3" || fail "twospeed(3) does not name $name"
done
grep -q '^\.SS twospeed report' "$share/man/man1/twospeed.1" && grep -q 'Exit status' "$share/man/man8/twospeedd.8" ||
    fail "twospeed(1) or twospeedd(8) lacks what --help says"
for m in man1/twospeed.1 man8/twospeedd.8 man1/twospeed-rpc.1; do
    grep -q "\"TwoSpeed $version\"" "$share/man/$m" || fail "$m is not at version $version"
done

# Completions where bash-completion, zsh and fish look; the bash ones load and complete subcommands.
for c in twospeed twospeedd twospeed-rpc; do
    for f in "bash-completion/completions/$c" "zsh/site-functions/_$c" "fish/vendor_completions.d/$c.fish"; do
        [ -s "$share/$f" ] || fail "$share/$f is missing"
    done
    grep -q "^#compdef $c\$" "$share/zsh/site-functions/_$c" || fail "_$c is not a zsh completion for $c"
    grep -q "complete -c '\?$c" "$share/fish/vendor_completions.d/$c.fish" || fail "$c.fish completes nothing for $c"
done
words=$(bash -c 'source "$1" && COMP_WORDS=(twospeed re) COMP_CWORD=1 COMP_LINE="twospeed re" COMP_POINT=11 &&
    $(complete -p twospeed | sed "s/.*-F \([^ ]*\) .*/\1/") twospeed re twospeed && printf "%s\n" "${COMPREPLY[@]}"' _ \
    "$share/bash-completion/completions/twospeed" 2>&1)
grep -qx report <<<"$words" || fail "the bash completion of 'twospeed re' is not report: $words"
# twospeed-rpc's completes options, and methods from rpc.discover: all of them, once a method is given none.
rpc_complete() { # rpc_complete WORD...: what completing the last word offers
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _twospeed_rpc; printf "%s\n" "${COMPREPLY[@]}"' _ \
        "$share/bash-completion/completions/twospeed-rpc" twospeed-rpc "$@" 2>&1
}
want=$(build/bin/twospeed call --db :memory: --compact rpc.discover | jq -r '.methods[].name' | sort)
[ "$(rpc_complete '' | sort)" = "$want" ] || fail "twospeed-rpc completes other methods than rpc.discover lists"
[ "$(rpc_complete -s /tmp/x.sock -c assessment.h)" = assessment.history ] || fail "twospeed-rpc assessment.h does not complete"
[ -z "$(rpc_complete engine.info '')" ] || fail "twospeed-rpc completes a second method"
grep -qx -- --version <<<"$(rpc_complete --)" || fail "twospeed-rpc -- does not offer --version"
# The same for fish, by fish itself (complete -C: what completing this command line offers)...
fish_complete() { fish --no-config -c "source '$share/fish/vendor_completions.d/twospeed-rpc.fish'; complete -C '$1'" | cut -f1; }
[ "$(fish_complete 'twospeed-rpc ' | sort)" = "$want" ] || fail "fish: twospeed-rpc completes other methods than rpc.discover lists"
[ "$(fish_complete 'twospeed-rpc -s /tmp/x.sock -c assessment.h')" = assessment.history ] || fail "fish: twospeed-rpc assessment.h does not complete"
[ -z "$(fish_complete 'twospeed-rpc engine.info ')" ] || fail "fish: twospeed-rpc completes a second method"
grep -qx -- --version <<<"$(fish_complete 'twospeed-rpc --')" || fail "fish: twospeed-rpc -- does not offer --version"
# ...and for zsh: the file parses, and the method spec it hands _arguments names the methods of rpc.discover.
zsh -n "$share/zsh/site-functions/_twospeed-rpc" || fail "zsh: _twospeed-rpc does not parse"
spec=$(zsh -fc '_arguments() { print -rl -- "$@"; }; _files() { :; }; source "$1"' _ "$share/zsh/site-functions/_twospeed-rpc" |
    sed -n 's/^1:method:(\(.*\))$/\1/p' | tr ' ' '\n' | sort)
[ "$spec" = "$want" ] || fail "zsh: _twospeed-rpc completes other methods than rpc.discover lists: $spec"

# A program that sees only the installed files: flags from the installed twospeed.pc (sysroot = DESTDIR),
# both headers included, run against the stripped library.
cat >"$dest/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "twospeed.h"
#include "twospeed_plugin.h"
int main(void) {
    twospeed_engine *eng = NULL;
    int rc = twospeed_open(NULL, &eng);
    if (rc != TWOSPEED_OK) { printf("open failed: %d %s\n", rc, twospeed_errstr(rc)); return 1; }
    char *res = twospeed_call(eng, "{\"jsonrpc\":\"2.0\",\"method\":\"engine.info\",\"id\":7}");
    int ok = res && strstr(res, "\"result\"") && strstr(res, TWOSPEED_VERSION);
    printf("%s %s\n", twospeed_version(), res ? res : "(null)");
    twospeed_free(res);
    twospeed_close(eng);
    return ok && strcmp(twospeed_version(), TWOSPEED_VERSION) == 0 ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs twospeed)
if ! ${CC:-cc} -std=c99 -Wall -Werror "$dest/prog.c" -o "$dest/prog" $flags -Wl,-rpath,"$root/lib" 2>"$dest/cc.err"; then
    fail "cannot build a program against the installed copy (flags: $flags):"; cat "$dest/cc.err" >&2
else
    resolved=$(ldd "$dest/prog" | awk '/libtwospeed/ {print $3}')
    [ "$resolved" = "$root/lib/libtwospeed.so.0" ] || fail "the program loads libtwospeed from '$resolved', not from $root/lib"
    if ! out=$("$dest/prog" 2>&1); then fail "the program against the installed library failed: $out"; fi
fi

# The programs carry the Swift runtime as the library does: no RUNPATH or NEEDED entry into the toolchain, and
# they run with the toolchain out of reach (its folder hidden under an empty tmpfs in a mount namespace of
# their own), as on a server where Swift was never installed.
swift_root=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
for p in twospeed twospeedd; do
    bin=$root/bin/$p
    [ -x "$bin" ] || { fail "$bin is missing"; continue; }
    dyn=$(readelf -d "$bin")
    if grep -E 'RUNPATH|RPATH' <<<"$dyn" | grep -q "$swift_root" || grep -q 'NEEDED.*libswift' <<<"$dyn"; then
        fail "$p still loads the Swift runtime from the toolchain: $(grep -E 'RUNPATH|RPATH|libswift|libFoundation|libdispatch' <<<"$dyn" | tr -s ' ' | tr '\n' ';')"
    fi
done
if unshare --mount --propagation private true 2>/dev/null; then
    out=$(unshare --mount --propagation private env -i PATH=/usr/bin:/bin bash -c '
        mount -t tmpfs none "$1" && [ -z "$(ls -A "$1")" ] || { echo "cannot hide $1"; exit 1; }
        "$2/bin/twospeed" call --db :memory: --compact engine.info && "$2/bin/twospeedd" --version' _ "$swift_root" "$root" 2>&1) &&
        grep -q '"abiVersion":1' <<<"$out" || fail "the installed programs do not run with $swift_root out of reach: $out"
else
    fail "unshare --mount is not allowed here: the programs' independence from the toolchain cannot be checked"
fi

# twospeed init's "$schema" names the schema make install put in place, whose $id the README gives.
schema_file=$root/share/twospeed/portfolio.schema.json
[ -f "$schema_file" ] || fail "$schema_file is missing"
named=$("$root/bin/twospeed" init - 2>/dev/null | jq -r '."$schema"')
[ "$named" = "$(readlink -f "$schema_file")" ] || fail "twospeed init's \$schema is $named, not the installed $schema_file"
id=$(jq -r '."$id"' "$schema_file")
grep -qF "\`$id\`" README.md || fail "the schema's \$id $id is not in the README"

$MAKE -s uninstall DESTDIR="$dest" PREFIX="$PREFIX" >/dev/null
left=$(find "$dest" -path "$dest/prog*" -prune -o ! -type d -print | grep -v -e '/cc.err$' || true)
[ -z "$left" ] || fail "make uninstall left: $left"

if [ "$failures" -gt 0 ]; then echo "test_install: $failures failure(s)" >&2; exit 1; fi
echo "test_install: passed"
