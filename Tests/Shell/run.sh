#!/usr/bin/env bash
# Shell-level tests: the README's C and Python examples as written, the demo, the installed library
# and its pkg-config file, and what the shared library links against.
set -u
cd "$(dirname "$0")/../.."
BUILD=${TWOSPEED_BUILD:-$PWD/build}
LIB=$(readlink -f "$BUILD/lib/libtwospeed.so")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=Tests/Shell/check.sh
. Tests/Shell/check.sh

# The n-th fenced block of a language in README.md.
block() { awk -v lang="$1" '$0 == "```" lang {on=1; next} on && $0 == "```" {exit} on {print}' README.md; }

block c > "$TMP/hello.c"
check "README C example compiles with -Werror" \
    gcc -std=c99 -Wall -Wextra -Werror -Iinclude "$TMP/hello.c" -o "$TMP/hello" -L"$BUILD/lib" -ltwospeed -Wl,-rpath,"$BUILD/lib"
check "README C example stores a portfolio" bash -c "'$TMP/hello' | grep -q '\"revision\":1'"
check "README C example shows a not-found error with its pointer" \
    bash -c "'$TMP/hello' | grep -q '\"code\":-32000.*\"pointer\":\"/id\"'"

# The README's build-and-run commands for it, as written, in a copy of the checkout's include/ and build/lib.
awk '$0 == "```sh" {on=1; buf=""; next} on && $0 == "```" {if (buf ~ /hello\.c/) {printf "%s", buf; exit} on=0; next} on {buf = buf $0 "\n"}' \
    README.md > "$TMP/hello-build.sh"
mkdir -p "$TMP/fresh/build" && cp -r include "$TMP/fresh/" && cp -a "$BUILD/lib" "$TMP/fresh/build/" && cp "$TMP/hello.c" "$TMP/fresh/"
check "README C build commands run as written against the build tree (rpath, no LD_LIBRARY_PATH)" bash -c "
    grep -q -- '-Wl,-rpath' '$TMP/hello-build.sh' && cd '$TMP/fresh' && env -u LD_LIBRARY_PATH sh -e '$TMP/hello-build.sh' | grep -q '\"revision\":1'"

block python > "$TMP/example.py"
check "README Python example runs" bash -c "TWOSPEED_LIBRARY='$LIB' PYTHONPATH='$PWD/bindings/python' python3 '$TMP/example.py' > '$TMP/py.out'"
check "README Python example prints the counts" grep -q "'products': 5" "$TMP/py.out"
check "README Python example prints the pointer" grep -q "/entity/status" "$TMP/py.out"

"$BUILD/portfolio_summary" examples/portfolios/retailer.json "$TMP/report.html" > "$TMP/demo.out" 2>&1
check "demo loads the retailer" grep -q 'loaded portfolio "retailer" (revision 1)' "$TMP/demo.out"
check "demo shows the checkout owner" grep -q 'Online checkout \[rollout, Daniel Ortiz\]' "$TMP/demo.out"
check "demo shows an unowned stage" grep -q 'Cart *(no product)' "$TMP/demo.out"
check "demo prints the dimension table" grep -qE '^Two-speed architecture +[1-5]\.[0-9]{2} +[1-5] ' "$TMP/demo.out"
check "demo prints the pitfalls" grep -q '\[high\] Looking outside for speed' "$TMP/demo.out"
check "demo prints the top recommendations" grep -qE '^  1\. ' "$TMP/demo.out"
check "demo refuses a missing file" bash -c "! '$BUILD/portfolio_summary' /nonexistent.json"
check "demo writes the HTML report and prints its absolute path" \
    grep -qx "HTML report: $(readlink -f "$TMP/report.html")" "$TMP/demo.out"
check "the demo's report is one HTML page with the radar chart" bash -c "
    head -1 '$TMP/report.html' | grep -qx '<!DOCTYPE html>' && tail -1 '$TMP/report.html' | grep -qx '</html>' &&
    grep -q '<svg class=\"chart radar\"' '$TMP/report.html' && grep -q '<title>Brightmart Retail: ' '$TMP/report.html' &&
    ! grep -qiE '<script|<link|https?://' '$TMP/report.html'"
check "demo without a report path writes none" bash -c "
    cd '$TMP' && '$BUILD/portfolio_summary' '$PWD/examples/portfolios/retailer.json' | grep -c 'HTML report' | grep -qx 0"
check "demo refuses a report path it cannot write" bash -c "
    ! '$BUILD/portfolio_summary' examples/portfolios/retailer.json /nonexistent/dir/report.html"

check "library has its SONAME" bash -c "readelf -d '$LIB' | grep -q 'SONAME.*libtwospeed.so.0'"
check "library needs no Swift runtime" bash -c "! readelf -d '$LIB' | grep NEEDED | grep -qi swift"
check "library exports the functions of twospeed.h and nothing else" bash Tests/C/check_exports.sh "$LIB" include/twospeed.h

# The reference client links the contract, not the engine (SQLite, reports, plugin host).
check "TwoSpeedClient does not depend on the engine" \
    bash -c "swift package dump-package | python3 Tests/Shell/check_client_deps.py"

check "make install" make -s install PREFIX="$TMP/prefix"
check "pkg-config finds the installed library" \
    bash -c "PKG_CONFIG_PATH='$TMP/prefix/lib/pkgconfig' pkg-config --modversion twospeed | grep -qx 0.1.0"
check "a program builds from pkg-config alone" bash -c "
    gcc -std=c99 -Wall -Werror '$TMP/hello.c' -o '$TMP/hello-installed' \
        \$(PKG_CONFIG_PATH='$TMP/prefix/lib/pkgconfig' pkg-config --cflags --libs twospeed) &&
    LD_LIBRARY_PATH='$TMP/prefix/lib' '$TMP/hello-installed' | grep -q '\"revision\":1'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
