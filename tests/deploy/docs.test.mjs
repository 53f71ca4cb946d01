// The documentation cannot drift from itself or from the code:
// - every relative link between the Markdown files points at a file that
//   exists, and every #anchor at a heading there (as GitHub makes anchors);
// - the configuration reference has a row for every setting and binding
//   the code reads, and names no setting the code does not read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

/** Markdown files of the project (not node_modules, target, build). */
function markdownFiles(dir = ROOT) {
  const skip = new Set(["node_modules", "target", "build", ".git", "test-artifacts"]);
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (skip.has(name)) return [];
    if (statSync(full).isDirectory()) return markdownFiles(full);
    return name.endsWith(".md") ? [full] : [];
  });
}

/** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a Markdown text offers (duplicates get -1, -2, as on GitHub). */
export function anchorsIn(text) {
  const seen = new Map();
  const anchors = new Set();
  const withoutCode = text.replace(/```[\s\S]*?```/g, "");
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = anchorOf(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** `[text](target)` links outside code blocks and spans, as { target, line }. */
export function linksIn(text) {
  const links = [];
  const lines = text.replace(/```[\s\S]*?```/g, (block) => block.replace(/[^\n]/g, "")).split("\n");
  lines.forEach((line, i) => {
    const prose = line.replace(/`[^`]*`/g, "");
    for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ target, line: i + 1 });
  });
  return links;
}

/** Every broken relative link in the project's Markdown, as "file:line target (why)". */
export function brokenLinks(files = markdownFiles()) {
  const broken = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const { target, line } of linksIn(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
      const [pathPart, anchor] = target.split("#");
      const resolved = pathPart ? path.resolve(path.dirname(file), pathPart) : file;
      const where = `${path.relative(ROOT, file)}:${line} ${target}`;
      if (!existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
      } else if (anchor !== undefined && resolved.endsWith(".md") && !anchorsIn(readFileSync(resolved, "utf8")).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
  }
  return broken;
}

test("every relative link between the docs points at a file and a heading that exist", () => {
  const files = markdownFiles();
  assert.ok(files.some((f) => f.endsWith("README.md")) && files.length >= 3, files.join(", "));
  assert.deepEqual(brokenLinks(files), []);
});

test("the link check fails on a broken file link and a broken anchor", () => {
  const probe = path.join(ROOT, "docs", "deploy.md");
  const text = readFileSync(probe, "utf8");
  assert.ok(anchorsIn(text).has("8-smoke-check-prove-the-deployment-against-your-upscope-account"));
  assert.equal(anchorOf("Who may open `/agent`"), "who-may-open-agent");
  assert.equal(anchorOf("What the gateway cannot promise: an own ID is the visitor's claim"), "what-the-gateway-cannot-promise-an-own-id-is-the-visitors-claim");
  assert.deepEqual(linksIn("see [a](x.md#y) and `[b](not-a-link.md)`\n```\n[c](nope.md)\n```\n[d](https://example.com)").map((l) => l.target), ["x.md#y", "https://example.com"]);
  // A file with one link to a missing file, one to a missing heading, and two good ones.
  const tmp = mkdtempSync(path.join(os.tmpdir(), "docs-"));
  const fake = path.join(tmp, "fake.md");
  writeFileSync(fake, `# Fake\n\n## A heading\n\n[gone](nowhere.md) [lost](#no-heading) [ok](#a-heading) [self](fake.md#fake)\n`);
  assert.deepEqual(brokenLinks([fake]).map((b) => b.replace(/^.*fake\.md:/, "")), ["5 nowhere.md (no such file)", "5 #no-heading (no such heading)"]);
});

/** The names of every variable, secret and binding the code reads. */
function settingsTheCodeReads() {
  const sources = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(".rs")) sources.push(readFileSync(full, "utf8"));
    }
  };
  walk(path.join(ROOT, "src"));
  const names = new Set();
  for (const source of sources) {
    // `pub const NAME: &str = "NAME";` in settings' names, and the `*_BINDING` constants.
    for (const [, constant, value] of source.matchAll(/const ([A-Z][A-Z0-9_]*): &str = "([A-Z][A-Z0-9_]*)";/g)) {
      if (constant === value || constant.endsWith("_BINDING")) names.add(value);
    }
  }
  return names;
}

/** The settings the configuration reference has a row for. */
function settingsDocumented(text) {
  const names = new Set();
  for (const line of text.split("\n").filter((l) => l.startsWith("| `"))) {
    const firstCell = line.split("|")[1];
    for (const [, name] of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(name);
  }
  return names;
}

test("the configuration reference has a row for every setting the code reads, and none it does not", () => {
  const reference = readFileSync(path.join(ROOT, CONFIGURATION_REFERENCE), "utf8");
  const read = settingsTheCodeReads();
  const documented = settingsDocumented(reference.slice(reference.indexOf("| name |")));
  assert.ok(read.size >= 30, [...read].join(", "));
  assert.deepEqual([...read].filter((n) => !documented.has(n)).sort(), [], `settings without a row in ${CONFIGURATION_REFERENCE}`);
  assert.deepEqual([...documented].filter((n) => !read.has(n)).sort(), [], `rows in ${CONFIGURATION_REFERENCE} for settings the code does not read`);
});

/** Where the configuration table lives. */
const CONFIGURATION_REFERENCE = "docs/configuration.md";
