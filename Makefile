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

.PHONY: all deps build lib demo test test-swift test-c test-python test-shell bench install uninstall clean

all: build

# Installs only what is missing: Debian packages when pkg-config cannot find them, pytest from PyPI.
deps:
	@missing=""; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	pkg-config --exists jansson 2>/dev/null || missing="$$missing libjansson-dev"; \
	pkg-config --exists sqlite3 2>/dev/null || missing="$$missing libsqlite3-dev"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v $(CXX) >/dev/null || missing="$$missing g++"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest

build: deps lib

# The release library, staged with its SONAME link so that programs linked here find it.
lib: $(LIB)
$(LIB): $(SWIFT_SOURCES)
	$(SWIFT) build -c release --product twospeed
	@mkdir -p $(LIBDIR)
	cp .build/release/libtwospeed.so $@
	ln -sf libtwospeed.so.$(VERSION) $(LIBDIR)/libtwospeed.so.0
	ln -sf libtwospeed.so.0 $(LIBDIR)/libtwospeed.so

$(BUILD)/portfolio_summary: examples/c/portfolio_summary.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) $< -o $@ $(LDFLAGS_LIB) -ljansson

# Loads the bundled retailer into an in-memory engine and prints what it holds.
demo: deps lib $(BUILD)/portfolio_summary
	$(BUILD)/portfolio_summary examples/portfolios/retailer.json

test: deps lib test-swift test-c test-python test-shell
	@echo "all test suites passed"

test-swift: deps
	$(SWIFT) test

$(BUILD)/test_abi: Tests/C/test_abi.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson -lpthread

$(BUILD)/test_header_cxx: Tests/C/test_header.cpp include/twospeed.h $(LIB)
	$(CXX) -std=c++11 -Wall -Wextra -Werror -Iinclude $< -o $@ $(LDFLAGS_LIB)

test-c: deps lib $(BUILD)/test_abi $(BUILD)/test_header_cxx $(BUILD)/portfolio_summary
	$(BUILD)/test_header_cxx
	$(BUILD)/test_abi

test-python: deps lib
	TWOSPEED_LIBRARY=$(abspath $(LIB)) python3 -m pytest -q Tests/Python

test-shell: deps lib $(BUILD)/portfolio_summary
	TWOSPEED_BUILD=$(abspath $(BUILD)) bash Tests/Shell/run.sh

$(BUILD)/bench_call: Tests/Bench/bench_call.c include/twospeed.h $(LIB)
	$(CC) $(CFLAGS_STRICT) -D_POSIX_C_SOURCE=200809L $< -o $@ $(LDFLAGS_LIB) -ljansson

bench: deps lib $(BUILD)/bench_call
	$(BUILD)/bench_call
	TWOSPEED_LIBRARY=$(abspath $(LIB)) python3 Tests/Bench/bench_load.py

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libtwospeed.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libtwospeed.so.0
	ln -sf libtwospeed.so.0 $(DESTDIR)$(PREFIX)/lib/libtwospeed.so
	install -m 0644 include/twospeed.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' include/twospeed.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/twospeed.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libtwospeed.so* $(DESTDIR)$(PREFIX)/include/twospeed.h \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/twospeed.pc

clean:
	rm -rf $(BUILD) .build
