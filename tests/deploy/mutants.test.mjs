// `make mutants` (scripts/mutants.sh) picks what to mutate the same way on
// any clone: the code changed since the merge base with origin/main (or
// main where there is no remote), uncommitted and new files included;
// everything with ALL=1; and it says what to do when there is no base. Run in
// throwaway git repositories, with `cargo` a stand-in that records how it was
// called (the real cargo-mutants run is `make mutants` itself; see
// docs/development.md for its figures).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

/** A repository with scripts/mutants.sh, src/core/a.rs committed on `branch`, and a recording `cargo`. */
function repo(branch = "main") {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mutants-"));
  const git = (...args) => {
    const run = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, encoding: "utf8" });
    assert.equal(run.status, 0, `git ${args.join(" ")}: ${run.stderr}`);
    return run.stdout.trim();
  };
  git("init", "-q", "-b", branch);
  mkdirSync(path.join(dir, "scripts"));
  mkdirSync(path.join(dir, "src/core"), { recursive: true });
  copyFileSync(path.join(ROOT, "scripts/mutants.sh"), path.join(dir, "scripts/mutants.sh"));
  writeFileSync(path.join(dir, "src/core/a.rs"), "pub fn a() -> u32 {\n    1\n}\n");
  writeFileSync(path.join(dir, "README.md"), "docs\n");
  git("add", ".");
  git("commit", "-q", "-m", "first");
  const bin = path.join(dir, "bin");
  mkdirSync(bin);
  // `cargo mutants --version` answers as the pinned release; any other call is recorded.
  writeFileSync(path.join(bin, "cargo"), `#!/usr/bin/env bash
if [ "$1 $2" = "mutants --version" ]; then
  echo "cargo-mutants $(sed -n 's/^MUTANTS_VERSION=//p' "${dir}/scripts/mutants.sh")"
  exit 0
fi
printf '%s\\n' "$*" >> "${dir}/cargo-calls"
# As cargo-mutants would end: FAKE_MUTANTS_EXIT, with FAKE_TIMEOUTS lines in timeout.txt.
if [ -n "\${FAKE_TIMEOUTS:-}" ]; then
  mkdir -p target/mutants/mutants.out
  printf '%s\\n' \$FAKE_TIMEOUTS > target/mutants/mutants.out/timeout.txt
fi
exit "\${FAKE_MUTANTS_EXIT:-0}"
`);
  chmodSync(path.join(bin, "cargo"), 0o755);
  const run = (env = {}) => {
    const res = spawnSync("bash", ["scripts/mutants.sh"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ALL: "", BASE: "", SHARD: "", JOBS: "", ...env },
    });
    let calls = [];
    try {
      calls = readFileSync(path.join(dir, "cargo-calls"), "utf8").trim().split("\n");
    } catch {}
    let diff = "";
    try {
      diff = readFileSync(path.join(dir, "target/mutants/changes.diff"), "utf8");
    } catch {}
    return { status: res.status, out: res.stdout + res.stderr, calls, diff };
  };
  return { dir, git, run, write: (file, text) => writeFileSync(path.join(dir, file), text) };
}

test("by default only the code changed since main's merge base: committed, uncommitted and new files", () => {
  const r = repo();
  r.git("checkout", "-q", "-b", "feature");
  r.write("src/core/a.rs", "pub fn a() -> u32 {\n    2\n}\n");
  r.git("commit", "-qam", "change a");
  r.write("src/core/b.rs", "pub fn b() -> bool {\n    true\n}\n");
  r.write("README.md", "docs changed\n");
  const { status, out, calls, diff } = r.run();
  assert.equal(status, 0, out);
  assert.match(out, /the code changed since [0-9a-f]+ \(2 file\(s\) under src\/\)/);
  assert.deepEqual(calls, ["mutants --output target/mutants --jobs 1 --in-diff target/mutants/changes.diff"]);
  assert.match(diff, /^\+\+\+ b\/src\/core\/a\.rs$/m);
  assert.match(diff, /^\+\+\+ b\/src\/core\/b\.rs$/m, "a new file not yet added to git");
  assert.doesNotMatch(diff, /README/, "only src/");
});

test("the base is origin/main when there is a remote; nothing changed means nothing to run", () => {
  const upstream = repo();
  const clone = mkdtempSync(path.join(os.tmpdir(), "mutants-clone-"));
  assert.equal(spawnSync("git", ["clone", "-q", upstream.dir, clone]).status, 0);
  const run = (env) => spawnSync("bash", ["scripts/mutants.sh"], {
    cwd: clone,
    encoding: "utf8",
    env: { ...process.env, PATH: `${path.join(upstream.dir, "bin")}:${process.env.PATH}`, ALL: "", BASE: "", SHARD: "", JOBS: "", ...env },
  });
  const fresh = run();
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.match(fresh.stdout, /nothing under src\/ changed since [0-9a-f]+: no mutants to test/);
  // Committed on the clone's own main: against origin/main it is a change
  // (the local main, now at HEAD, would show none), so origin/main is the base.
  writeFileSync(path.join(clone, "src/core/a.rs"), "pub fn a() -> u32 {\n    3\n}\n");
  spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "local"], { cwd: clone });
  const changed = run();
  assert.equal(changed.status, 0, changed.stderr);
  assert.match(changed.stdout, /the code changed since [0-9a-f]+ \(1 file\(s\) under src\/\)/);
});

test("ALL=1 mutates everything; SHARD needs ALL=1; JOBS is passed on", () => {
  const r = repo();
  const all = r.run({ ALL: "1", SHARD: "2/4", JOBS: "3" });
  assert.equal(all.status, 0, all.out);
  assert.deepEqual(all.calls, ["mutants --output target/mutants --jobs 3 --shard 2/4"]);
  const r2 = repo();
  const shardAlone = r2.run({ SHARD: "1/4" });
  assert.equal(shardAlone.status, 64);
  assert.match(shardAlone.out, /SHARD=1\/4 is for the full pass; add ALL=1/);
  assert.deepEqual(shardAlone.calls, []);
});

test("mutants that only timed out count as caught (exit 0, said); a missed one fails (exit 2); a failed run fails", () => {
  const r = repo();
  const timedOut = r.run({ ALL: "1", FAKE_MUTANTS_EXIT: "3", FAKE_TIMEOUTS: "src/core/a.rs:2:5:one src/core/a.rs:2:6:two" });
  assert.equal(timedOut.status, 0, timedOut.out);
  assert.match(timedOut.out, /mutants: 2 mutant\(s\) made the tests run past the timeout \(target\/mutants\/mutants.out\/timeout.txt\): noticed, so counted as caught/);
  for (const status of [2, 1, 4]) {
    assert.equal(r.run({ ALL: "1", FAKE_MUTANTS_EXIT: String(status) }).status, status);
  }
});

test("without origin/main or main, or with a BASE that is not a commit, it says what to do and runs nothing", () => {
  const r = repo("trunk");
  const none = r.run();
  assert.equal(none.status, 64);
  assert.match(none.out, /neither origin\/main nor main exists here: set BASE=<rev>, or ALL=1/);
  const bad = r.run({ BASE: "no-such-branch" });
  assert.equal(bad.status, 64);
  assert.match(bad.out, /BASE=no-such-branch is not a commit in this clone/);
  const given = r.run({ BASE: "trunk" });
  assert.equal(given.status, 0, given.out);
  assert.match(given.out, /nothing under src\/ changed/);
  assert.deepEqual(given.calls, []);
});

test("the pinned cargo-mutants is installed on first use, as setup.sh installs its tools", () => {
  const script = readFileSync(path.join(ROOT, "scripts/mutants.sh"), "utf8");
  const version = script.match(/^MUTANTS_VERSION=(\d+\.\d+\.\d+)$/m)[1];
  assert.match(script, /cargo install cargo-mutants --locked --version "=\$MUTANTS_VERSION" --force/);
  assert.match(readFileSync(path.join(ROOT, "docs/development.md"), "utf8"), new RegExp(`cargo-mutants ${version.replace(/\./g, "\\.")}`));
});
