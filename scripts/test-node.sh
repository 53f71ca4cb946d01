#!/usr/bin/env bash
# The JavaScript suites (make test, after the Rust tests): every
# tests/**/*.test.mjs file, several at once. Each file starts its own
# workerd, simulator and servers on ports the OS picks, so files share no
# port or state; the ones that measure (bench, load) run alone afterwards,
# so that no other file's load is in their figures.
# TEST_JOBS sets how many files run at once (default: the CPU count, at least 2).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${TEST_JOBS:-$(node -e 'console.log(Math.max(2, require("node:os").availableParallelism()))')}
alone=(tests/bench/*.test.mjs tests/load/*.test.mjs)
together=()
# A read loop rather than mapfile: macOS ships bash 3.2, which has no mapfile.
while IFS= read -r file; do together+=("$file"); done < <(find tests -name '*.test.mjs' -not -path 'tests/bench/*' -not -path 'tests/load/*' | sort)
node --test --test-concurrency="$jobs" --test-timeout=240000 "${together[@]}"
node --test --test-concurrency=1 --test-timeout=240000 "${alone[@]}"
