// Local secret files stay out of git; the checked-in examples do not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

const ignored = (file) => spawnSync("git", ["check-ignore", "-q", "--no-index", file], { cwd: ROOT }).status === 0;

test(".gitignore covers .dev.vars* and .env*, but not the examples", () => {
  for (const file of [".dev.vars", ".dev.vars.staging", ".dev.vars.production", ".env", ".env.production", ".env.staging", ".env.local"]) {
    assert.ok(ignored(file), `${file} is not ignored`);
  }
  for (const file of [".dev.vars.example", ".env.example", "wrangler.toml", "docs/deploy.md"]) {
    assert.ok(!ignored(file), `${file} is ignored`);
  }
});
