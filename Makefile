# diala-edge: the entry points. `make demo` and `make test` work on a fresh Debian 12 machine.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the build and the tests need: a C toolchain and cmake for whisper.cpp,
# libclang for its bindings, OpenSSL's libcrypto for SQLCipher, libsystemd for sd_notify, curl
# for the demo, systemd's own tools to check the shipped unit.
DEB_PACKAGES := gcc g++ make pkg-config cmake libclang-dev libssl-dev libsystemd-dev \
	ca-certificates curl systemd

# cargo-deny checks licenses, bans and sources offline; its advisory database is not reachable.
CARGO_DENY_VERSION := 0.20.2

.PHONY: all deps build release demo test lint fmt bench clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@if ! cargo-deny --version 2>/dev/null | grep -q '$(CARGO_DENY_VERSION)'; then \
		$(CARGO) install --locked cargo-deny --version $(CARGO_DENY_VERSION); \
	fi

build: deps
	$(CARGO) build --workspace --locked

release: deps
	$(CARGO) build --workspace --locked --release

demo: build
	scripts/demo.sh target/debug/diala-edge

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	cargo-deny --offline check licenses bans sources

fmt:
	$(CARGO) fmt --all

# The end-to-end tests start the daemon binary, so it is built first.
test: lint
	$(CARGO) build --workspace --locked --bins
	$(CARGO) test --workspace --locked

bench: deps
	$(CARGO) bench --workspace --locked

clean:
	$(CARGO) clean
	rm -rf .demo
