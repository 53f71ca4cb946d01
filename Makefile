# The two front-door commands are `make dev` and `make test` (see README.md);
# deploying is `make init ENV=…` once, then `make deploy ENV=…` (which runs
# `make check ENV=…`), `make rollback ENV=…` and `make secret ENV=… NAME=…`
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
# as `wrangler deploy --secrets-file` takes). Without it, check, smoke and
# the first deploy read .env.$(ENV) (make init writes it); `check` asks
# `wrangler secret list` when there is none. `deploy` uploads SECRETS with
# every version; .env.$(ENV) only with the first.
SECRETS ?=
# `make secret`: which secret (its value from the environment variable of
# that name, else asked without echo).
NAME ?=
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

.PHONY: setup setup-browser setup-bench build build-dev build-panic dev test test-unit test-integration login init check deploy rollback secret smoke bench stats

setup:
	@scripts/setup.sh

setup-browser:
	@scripts/setup-browser.sh

setup-bench:
	@scripts/setup-bench.sh

# Rebuilt only when an input changed: wrangler runs `make build` before every
# deploy, dry run and dev session.
BUILD_INPUTS := $(shell find src -type f) Cargo.toml Cargo.lock scripts/build.sh scripts/lib/bundle-entry.mjs

build: setup build/index.js

build/index.js: $(BUILD_INPUTS)
	@scripts/build.sh

# make dev's own build (wrangler.toml [env.dev.build]): Cargo.toml's dev-wasm
# profile, no wasm-opt, into build-dev/; quick to rebuild after an edit.
build-dev: setup build-dev/index.js

build-dev/index.js: $(BUILD_INPUTS)
	@scripts/build.sh dev

# The tests' own build, never deployed: dev-wasm with a route that panics on
# request (tests/integration/panic.test.mjs).
build-panic: setup build-panic/index.js

build-panic/index.js: $(BUILD_INPUTS)
	@scripts/build.sh panic

## Starts the gateway (wrangler dev, port 8787) with the Upscope simulator (port 8788) as upstream.
dev: setup
	node scripts/dev.mjs

## Runs every test: Rust unit tests, then the integration suites against the built wasm.
test: build build-dev build-panic setup-browser setup-bench
	cargo test --quiet
	@scripts/test-node.sh

test-unit:
	cargo test

test-integration: build build-dev build-panic setup-browser setup-bench
	@scripts/test-node.sh

## Signs in to Cloudflare: `wrangler login` (a browser), unless signed in already or CLOUDFLARE_API_TOKEN is set.
login: setup
	@if wrangler whoami 2>&1 | grep -q "You are not authenticated"; then wrangler login; fi
	@wrangler whoami

## Sets ENV up for its first deploy (scripts/init.mjs): asks, or takes as variables (GATEWAY_HOST, VISITOR_PAGES,
## EMBED_ORIGINS, AGENT_AUTH, ACCESS_TEAM_DOMAIN, ACCESS_AUD, UPSCOPE_API_KEY, …), the host name, the page(s)
## /visitor opens, the site that embeds it and how agents sign in; writes them into wrangler.toml's [env.ENV],
## and the secrets (generated, and the API key) into .env.ENV, mode 0600. A second run changes nothing unless asked.
init: setup
	@node scripts/init.mjs --env="$(ENV)"

## Checks ENV's settings (and audit/wrangler.toml's) with the Worker's own settings code; one line per problem.
check: setup
	@node scripts/check-config.mjs --env="$(ENV)" $(if $(SECRETS),--secrets="$(SECRETS)") $(if $(ALLOW_PLACEHOLDERS),--allow-placeholders) $(if $(CONFIG),--config="$(CONFIG)")

## check, build, the audit Tail Worker and its migrations, then (scripts/deploy.mjs) the first deploy with its
## secrets and custom domain, or a gradual rollout: `wrangler versions upload`, a smoke check of the new version
## through a version override, then traffic in STEPS (default 10,100), smoke-checked at each; any failure
## returns traffic to the previous version. DRY_RUN=1 builds and validates offline.
deploy: check build
	@node scripts/deploy.mjs --env="$(ENV)" $(if $(SECRETS),--secrets="$(SECRETS)") $(if $(STEPS),--steps="$(STEPS)") $(if $(DRY_RUN),--dry-run)

## Changes ENV's secret NAME where it serves (scripts/secret.mjs: `wrangler versions secret put`, or the serving code
## uploaded again after a failed rollout), deploys it at 100%, records it in .env.ENV, then a smoke check.
secret: setup
	@node scripts/secret.mjs --env="$(ENV)" --name="$(NAME)"

## `wrangler rollback` (to VERSION, or the version before), then a smoke check of the version serving.
rollback: setup
	@node scripts/deploy.mjs --env="$(ENV)" --rollback $(if $(VERSION),--version="$(VERSION)")

## Every flow end to end from Chromium (scripts/smoke.mjs): the local `make dev` gateway by default,
## ENV=staging|production for that environment's URL (or SMOKE_URL), URL=https://… for any gateway.
smoke: setup setup-browser
	@node scripts/smoke.mjs $(if $(ENV),--env="$(ENV)") $(if $(URL),--url="$(URL)") $(if $(SECRETS),--secrets="$(SECRETS)")

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
