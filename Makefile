# The two front-door commands are `make dev` and `make test` (see README.md).
#
# Node: setup links node_modules/.node-bin/node to the system Node when it is
# 22.12 or newer, otherwise to the Node 22 npm installed for this platform
# (one of the optional node-<os>-<cpu> packages). Cargo-installed tools come
# from ~/.cargo/bin.
export PATH := $(CURDIR)/node_modules/.node-bin:$(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false

.PHONY: setup setup-browser build dev test test-unit test-integration

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup-browser.sh

# Rebuilt only when an input changed: wrangler runs `make build` before every
# deploy, dry run and dev session.
BUILD_INPUTS := $(shell find src -type f) Cargo.toml Cargo.lock scripts/build.sh

build: setup build/index.js

build/index.js: $(BUILD_INPUTS)
	@scripts/build.sh

## Starts the gateway (wrangler dev, port 8787) with the Upscope simulator (port 8788) as upstream.
dev: setup
	node scripts/dev.mjs

## Runs every test: Rust unit tests, then the integration suites against the built wasm.
test: build setup-browser
	cargo test --quiet
	node --test --test-concurrency=1 --test-timeout=240000 "tests/**/*.test.mjs"

test-unit:
	cargo test

test-integration: build setup-browser
	node --test --test-concurrency=1 --test-timeout=240000 "tests/**/*.test.mjs"
