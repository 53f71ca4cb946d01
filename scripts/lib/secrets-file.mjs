// The one reader of secrets files (SECRETS=…, .env.<env>): `make check`,
// `make deploy`, `make smoke`, `make init` and `make secret` all read them
// here. Two formats, the two `wrangler deploy --secrets-file` and
// `wrangler secret bulk` take:
//
//   KEY=value lines   blank lines and `#` comment lines are skipped; an
//                     optional `export `; the value unquoted, or wholly in
//                     '…' or "…" (taken as written: no escapes, no `#`
//                     comment after it)
//   a JSON object     { "KEY": "value", … }, string values only
//
// What wrangler's own reader (dotenv) would read differently, or skip
// silently, is refused: an unquoted value with `#` or a quote in it, a
// quoted value with a backslash or a stray quote, a line that is not
// KEY=value, a name twice. A malformed file is reported by its line number
// and what is wrong in general, never with a name's value or a fragment of
// the line: JSON.parse's own messages quote the text around the fault, which
// is where the secret is, so JSON is read by the small reader below instead.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./wrangler-config.mjs";

/** A malformed secrets file: `line` is 1-based; the message names no value. */
export class SecretsFileError extends Error {
  constructor(line, what) {
    super(`line ${line}: ${what}`);
    this.line = line;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `{ NAME: value }` from the text of a secrets file; throws SecretsFileError. */
export function parseSecrets(text) {
  const body = text.replace(/^\uFEFF/, "");
  return body.trimStart().startsWith("{") ? parseJsonObject(body) : parseLines(body);
}

/** The secrets file at `file`; any problem is an Error naming the file and at most a line number. */
export function readSecretsFile(file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read the secrets file ${file} (${err.code ?? "unreadable"})`);
  }
  try {
    return parseSecrets(text);
  } catch (err) {
    if (err instanceof SecretsFileError) throw new Error(`the secrets file ${file} is malformed at ${err.message}; no value is shown`);
    throw err;
  }
}

/** `.env.<env>`, the file `make init` writes an environment's secrets to, when it exists. */
export function environmentSecretsFile(env) {
  const file = path.join(ROOT, `.env.${env}`);
  return existsSync(file) ? file : undefined;
}

/** Whether git would commit `file` (false outside a git checkout, or when it is ignored). */
export function committable(file) {
  return spawnSync("git", ["check-ignore", "--quiet", "--", file], { cwd: ROOT }).status === 1;
}

/** The file as KEY=value lines, the format wrangler's `.env` reader takes. */
export function formatSecrets(secrets) {
  return Object.entries(secrets).map(([name, value]) => {
    if (!NAME.test(name)) throw new Error(`not a secret name: ${JSON.stringify(name)}`);
    if (/[\r\n'\\]/.test(value)) throw new Error(`the value of ${name} cannot be written to a secrets file (a line break, quote or backslash)`);
    return `${name}='${value}'\n`;
  }).join("");
}

function parseLines(text) {
  const secrets = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new SecretsFileError(n, "not NAME=value");
    const [, name, rest] = m;
    if (!NAME.test(name)) throw new SecretsFileError(n, "the name must be letters, digits and _, not starting with a digit");
    let value;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      if (rest.length < 2 || !rest.endsWith(quote)) throw new SecretsFileError(n, `a value opened with ${quote} must end with it on the same line`);
      value = rest.slice(1, -1);
      if (value.includes(quote)) throw new SecretsFileError(n, `a ${quote}-quoted value cannot contain ${quote}`);
      if (value.includes("\\")) throw new SecretsFileError(n, "a quoted value cannot contain a backslash (wrangler would read it differently)");
    } else {
      value = rest;
      if (/["'`]/.test(value)) throw new SecretsFileError(n, "an unquoted value cannot contain a quote: wrap the value in ' or \"");
      if (value.includes("#")) throw new SecretsFileError(n, "an unquoted value cannot contain # (wrangler would cut it there): wrap the value in ' or \"");
    }
    if (Object.hasOwn(secrets, name)) throw new SecretsFileError(n, `${name} is set twice`);
    secrets[name] = value;
  });
  return secrets;
}

/**
 * A flat JSON object of strings, read by hand so that an error names the
 * line and never echoes the text (JSON.parse's messages quote it).
 */
function parseJsonObject(text) {
  let i = 0;
  let line = 1;
  const fail = (what) => {
    throw new SecretsFileError(line, what);
  };
  const space = () => {
    while (i < text.length && /[ \t\r\n]/.test(text[i])) {
      if (text[i] === "\n") line++;
      i++;
    }
  };
  const string = (what) => {
    if (text[i] !== '"') fail(`${what} must be a "quoted" string`);
    const start = line;
    let out = "";
    for (i++; ; i++) {
      if (i >= text.length) throw new SecretsFileError(start, "a string is never closed");
      const c = text[i];
      if (c === '"') break;
      if (c === "\n" || c < " ") fail("a string cannot hold a line break or control character: escape it");
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = text[++i];
      const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[e];
      if (simple !== undefined) out += simple;
      else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) {
        out += String.fromCharCode(parseInt(text.slice(i + 1, i + 5), 16));
        i += 4;
      } else fail("a string has an invalid \\ escape");
    }
    i++;
    return out;
  };
  const secrets = {};
  space();
  if (text[i] !== "{") fail("expected {");
  i++;
  space();
  if (text[i] === "}") i++;
  else {
    for (;;) {
      space();
      const name = string("a name");
      if (!NAME.test(name)) fail("the name must be letters, digits and _, not starting with a digit");
      space();
      if (text[i] !== ":") fail("expected : after a name");
      i++;
      space();
      if (text[i] !== '"') fail(`the value of ${name} must be a "quoted" string`);
      const value = string("a value");
      if (Object.hasOwn(secrets, name)) fail(`${name} is set twice`);
      secrets[name] = value;
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        break;
      }
      fail("expected , or } after a value");
    }
  }
  space();
  if (i < text.length) fail("text after the closing }");
  return secrets;
}
