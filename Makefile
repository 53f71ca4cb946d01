# The two front-door commands are `make dev` and `make test` (see README.md);
# deploying is `make check ENV=…`, `make deploy ENV=…` and `make rollback ENV=…`
# (docs/deploy.md).
#
# Node: setup links node_modules/.node-bin/node to the system Node when it is
# 22.12 or newer, otherwise to the Node 22 npm installed for this platform
# (one of the optional node-<os>-<cpu> packages). Cargo-installed tools come
# from ~/.cargo/bin.
export PATH := $(CURDIR)/node_modules/.node-bin:$(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false

# The environment `check` and `deploy` act on (staging or production).
ENV ?=
# Optional: a file of that environment's secrets (KEY=value lines or JSON,
# as `wrangler deploy --secrets-file` takes). Without it, `check` asks
# `wrangler secret list` which secrets are set.
SECRETS ?=
# The traffic steps of a gradual deploy, in percent, ending at 100.
STEPS ?=
# `make rollback`: the version to return to (default: the one before).
VERSION ?=
# Optional: another wrangler config to check (a copy being edited); `check` only.
CONFIG ?=
# ALLOW_PLACEHOLDERS=1: REPLACE-ME values are notes, not problems; for CI
# and dry runs only, never for a real deploy.
ifneq ($(ALLOW_PLACEHOLDERS),)
ifeq ($(DRY_RUN),)
ifneq ($(filter deploy,$(MAKECMDGOALS)),)
$(error ALLOW_PLACEHOLDERS=1 is for make check and dry runs (DRY_RUN=1) only)
endif
endif
endif

.PHONY: setup setup-browser setup-bench build build-dev dev test test-unit test-integration check deploy rollback smoke bench stats

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup-browser.sh

setup-bench:
	@scripts/setup-bench.sh

# Rebuilt only when an input changed: wrangler runs `make build` before every
# deploy, dry run and dev session.
BUILD_INPUTS := $(shell find src -type f) Cargo.toml Cargo.lock scripts/build.sh scripts/lib/strip-wasm-names.mjs

build: setup build/index.js

build/index.js: $(BUILD_INPUTS)
	@scripts/build.sh

# make dev's own build (wrangler.toml [env.dev.build]): Cargo.toml's dev-wasm
# profile, no wasm-opt, into build-dev/; quick to rebuild after an edit.
build-dev: setup build-dev/index.js

build-dev/index.js: $(BUILD_INPUTS)
	@scripts/build.sh dev

## Starts the gateway (wrangler dev, port 8787) with the Upscope simulator (port 8788) as upstream.
dev: setup
	node scripts/dev.mjs

## Runs every test: Rust unit tests, then the integration suites against the built wasm.
test: build build-dev setup-browser setup-bench
	cargo test --quiet
	node --test --test-concurrency=1 --test-timeout=240000 "tests/**/*.test.mjs"

test-unit:
	cargo test

test-integration: build build-dev setup-browser setup-bench
	node --test --test-concurrency=1 --test-timeout=240000 "tests/**/*.test.mjs"

## Checks ENV's settings with the Worker's own settings code; one line per problem.
check: setup
	@node scripts/check-config.mjs --env "$(ENV)" $(if $(SECRETS),--secrets "$(SECRETS)") $(if $(ALLOW_PLACEHOLDERS),--allow-placeholders) $(if $(CONFIG),--config "$(CONFIG)")

## check, build, then a gradual rollout (scripts/deploy.mjs): `wrangler versions upload`, a smoke check
## of the new version through a version override, then traffic in STEPS (default 10,100), smoke-checked
## at each; any failure returns traffic to the previous version. DRY_RUN=1 builds and validates offline.
deploy: check build
	@node scripts/deploy.mjs --env "$(ENV)" $(if $(SECRETS),--secrets "$(SECRETS)") $(if $(STEPS),--steps "$(STEPS)") $(if $(DRY_RUN),--dry-run)

## `wrangler rollback` (to VERSION, or the version before), then a smoke check of the version serving.
rollback: setup
	@node scripts/deploy.mjs --env "$(ENV)" --rollback $(if $(VERSION),--version "$(VERSION)")

## Every flow end to end from Chromium (scripts/smoke.mjs): the local `make dev` gateway by default,
## ENV=staging|production for that environment's URL (or SMOKE_URL), URL=https://… for any gateway.
smoke: setup setup-browser
	@node scripts/smoke.mjs $(if $(ENV),--env "$(ENV)") $(if $(URL),--url "$(URL)") $(if $(SECRETS),--secrets "$(SECRETS)")

## ENV's numbers from its METRICS Analytics Engine dataset (docs/metrics.sql): requests, 4xx/5xx rates,
## p50/p95 per route, upstream failures by cause, sessions per hour. SINCE=24h (or 90m, 7d).
## Needs CLOUDFLARE_API_TOKEN (Account Analytics: Read) and CLOUDFLARE_ACCOUNT_ID in the environment.
SINCE ?=
stats: setup
	@node scripts/stats.mjs --env "$(ENV)" $(if $(SINCE),--since "$(SINCE)")

## A/B benchmark of the built gateway against bench/reference.mjs (see bench/README.md); BENCH_ARGS=--quick for one short round.
bench: build setup-bench
	node bench/bench.mjs $(BENCH_ARGS)

## Mutation testing (scripts/mutants.sh, .cargo/mutants.toml; docs/development.md): breaks the natively
## tested code one small change at a time and reports each change `cargo test` did not notice. By default
## only the code changed since main's merge base; ALL=1 every mutant of src/core, auth, services, settings
## and upscope (hours on two cores); BASE=<rev>, SHARD=k/n (with ALL=1), JOBS=n. Never part of `make test`.
.PHONY: mutants
mutants:
	@ALL="$(ALL)" BASE="$(BASE)" SHARD="$(SHARD)" JOBS="$(JOBS)" scripts/mutants.sh
