// The wrangler config as wrangler itself reads it: one parser, one source of
// truth for the deploy tooling and the test harnesses.
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CONFIG_PATH = path.join(ROOT, "wrangler.toml");
/** The audit trail's Tail Worker (audit/worker.mjs) and its D1 database. */
export const AUDIT_CONFIG_PATH = path.join(ROOT, "audit/wrangler.toml");
/** What `make check`/`make deploy` may target; `dev` is `make dev`'s only. */
export const DEPLOY_ENVS = ["staging", "production"];
/** Marks a value the operator must fill in before deploying. */
export const PLACEHOLDER = "REPLACE-ME";

let wrangler;
async function load() {
  // Quiet: wrangler would otherwise print its banner and config warnings.
  wrangler ??= await import("wrangler");
  return wrangler;
}

/** The names of the environments the config defines. */
export async function environments(configPath = CONFIG_PATH) {
  const { experimental_readRawConfig } = await load();
  const { rawConfig } = experimental_readRawConfig({ config: configPath }, { hideWarnings: true });
  return Object.keys(rawConfig.env ?? {});
}

/** The resolved config of environment `env` (top level merged as wrangler does). */
export async function readEnv(env, configPath = CONFIG_PATH) {
  const known = await environments(configPath);
  if (!known.includes(env)) {
    throw new Error(`${path.basename(configPath)} has no environment "${env}" (it has: ${known.join(", ")})`);
  }
  const { unstable_readConfig } = await load();
  return unstable_readConfig({ config: configPath, env }, { hideWarnings: true });
}

/** The runtime version every harness must run: compatibility date and flags. */
export async function runtimeVersion(env = "dev") {
  const config = await readEnv(env);
  return { compatibilityDate: config.compatibility_date, compatibilityFlags: config.compatibility_flags ?? [] };
}

/**
 * `runtimeVersion("dev")`, remembered per content of wrangler.toml so each
 * test file need not load wrangler (a couple of seconds) to learn it.
 */
export async function cachedRuntimeVersion() {
  const { readFileSync, writeFileSync, mkdirSync } = await import("node:fs");
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256").update(readFileSync(CONFIG_PATH)).digest("hex");
  const cacheFile = path.join(ROOT, "node_modules/.cache/upscope-gateway/runtime-version.json");
  try {
    const cached = JSON.parse(readFileSync(cacheFile, "utf8"));
    if (cached.hash === hash) return cached.version;
  } catch {}
  const version = await runtimeVersion("dev");
  mkdirSync(path.dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify({ hash, version }));
  return version;
}
