#!/usr/bin/env bash
# The library's dynamic symbols must be exactly the functions include/twospeed.h declares: nothing of
# the Swift engine or its runtime leaks out, and nothing the header promises is missing.
# Usage: check_exports.sh LIBRARY HEADER
set -euo pipefail
lib=$1 header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Declarations start at column 0 with a type; the header's comments start with "**" or spaces, so
# the example code in them does not count.
sed -n 's/^[A-Za-z][^(]*[ *]\(twospeed_[A-Za-z0-9_]*\)(.*/\1/p' "$header" | sort -u >"$tmp/declared"
# Every defined dynamic symbol, whatever its binding: a local one in .dynsym is still baggage.
nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u >"$tmp/exported"

if [ ! -s "$tmp/declared" ]; then
    echo "FAIL check_exports: found no function declarations in $header" >&2
    exit 1
fi
if cmp -s "$tmp/declared" "$tmp/exported"; then
    echo "exports: $(wc -l <"$tmp/exported") symbols, exactly the functions of $(basename "$header")"
    exit 0
fi
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
echo "FAIL check_exports: $lib exports $(wc -l <"$tmp/exported") symbols; $header declares $(wc -l <"$tmp/declared") functions" >&2
if [ -n "$missing" ]; then
    echo "  declared but not exported:" >&2
    sed 's/^/    /' <<<"$missing" >&2
fi
if [ -n "$extra" ]; then
    echo "  exported but not declared ($(wc -l <<<"$extra")), the first 20:" >&2
    head -20 <<<"$extra" | sed 's/^/    /' >&2
fi
exit 1
