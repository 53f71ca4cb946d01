#!/usr/bin/env bash
# `make mutants`: mutation testing of the natively tested code with
# cargo-mutants (.cargo/mutants.toml says which files and why). It changes
# the code one small way at a time (a `<` for a `<=`, a body for a default
# value) and runs `cargo test --lib` against each change: a change no test
# notices is a missed mutant, printed with its file and line.
#
#   make mutants                only the code changed since main's merge base
#                               (committed or not): quick, before every stop
#   make mutants ALL=1          every mutant of src/core, auth, services,
#                               settings and upscope (hours on two cores)
#   make mutants BASE=<rev>     changes since HEAD's merge base with <rev>
#   make mutants SHARD=k/n      with ALL=1: the k-th of n slices (CI)
#   make mutants JOBS=n         n mutants at once (each builds in its own copy)
#
# Installs the pinned cargo-mutants on first use, as setup.sh installs its
# tools. The report is in target/mutants/mutants.out/ (missed.txt, caught.txt,
# timeout.txt, unviable.txt, outcomes.json). Exit status: 0 when every mutant
# was caught (a timeout counts as caught), unviable or excluded, 2 when one was
# missed (cargo-mutants'), other values when the run itself failed.
set -euo pipefail
cd "$(dirname "$0")/.."

args=(--output target/mutants --jobs "${JOBS:-1}")
if [ -n "${SHARD:-}" ]; then
  if [ -z "${ALL:-}" ]; then
    echo "mutants: SHARD=$SHARD is for the full pass; add ALL=1" >&2
    exit 64
  fi
  args+=(--shard "$SHARD")
fi

if [ -z "${ALL:-}" ]; then
  # Changes since where this branch left BASE: origin/main where there is a
  # remote, else the local main branch.
  ref=${BASE:-}
  if [ -z "$ref" ]; then
    for candidate in origin/main main; do
      if git rev-parse --verify --quiet "$candidate^{commit}" >/dev/null; then
        ref=$candidate
        break
      fi
    done
  fi
  if [ -z "$ref" ]; then
    echo "mutants: neither origin/main nor main exists here: set BASE=<rev>, or ALL=1 for every mutant" >&2
    exit 64
  fi
  if ! git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
    echo "mutants: BASE=$ref is not a commit in this clone" >&2
    exit 64
  fi
  base=$(git merge-base "$ref" HEAD) || {
    echo "mutants: $ref and HEAD share no history here (a shallow clone?): fetch more, or set BASE=<rev> or ALL=1" >&2
    exit 64
  }
  mkdir -p target/mutants
  diff_file=target/mutants/changes.diff
  # The work tree against the base, so uncommitted changes count, and new
  # files not yet added to git too.
  git diff --no-ext-diff "$base" -- src > "$diff_file"
  git ls-files --others --exclude-standard -z -- src | while IFS= read -r -d '' file; do
    git diff --no-ext-diff --no-index -- /dev/null "$file" >> "$diff_file" || true
  done
  if [ ! -s "$diff_file" ]; then
    echo "mutants: nothing under src/ changed since $(git rev-parse --short "$base"): no mutants to test (ALL=1 tests them all)"
    exit 0
  fi
  echo "mutants: the code changed since $(git rev-parse --short "$base") ($(grep -c '^+++ ' "$diff_file") file(s) under src/)"
  args+=(--in-diff "$diff_file")
fi

# Installed only now, when there is something to test.
MUTANTS_VERSION=27.1.0
if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $MUTANTS_VERSION" ]; then
  echo "mutants: installing cargo-mutants $MUTANTS_VERSION (first time only, a few minutes)"
  cargo install cargo-mutants --locked --version "=$MUTANTS_VERSION" --force
fi

# Native tests without debug info: each mutant is a rebuild, and this makes
# it quicker. The copies cargo-mutants builds in are its own, so this never
# touches the target/ that `make test` uses.
export CARGO_PROFILE_DEV_DEBUG=false CARGO_PROFILE_TEST_DEBUG=false
status=0
cargo mutants "${args[@]}" || status=$?
# cargo-mutants exits 3 when mutants only timed out: the tests never passed
# with them (a search that no longer ends, say), so they were noticed.
if [ "$status" -eq 3 ]; then
  timeouts=target/mutants/mutants.out/timeout.txt
  echo "mutants: $( [ -f "$timeouts" ] && wc -l < "$timeouts" | tr -d ' ' || echo some) mutant(s) made the tests run past the timeout ($timeouts): noticed, so counted as caught; none was missed"
  exit 0
fi
exit "$status"
