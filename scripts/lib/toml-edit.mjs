// Line edits of wrangler.toml that keep every comment and every other line
// as it is: `make init` sets a few keys of one environment. Only keys on
// one line (`KEY = value`) directly under a `[table]` header are touched;
// the result is always read back with wrangler's own reader by the caller.

/** A TOML basic string: JSON's escapes are all valid TOML escapes. */
export const tomlString = (value) => JSON.stringify(String(value)).replace(/\u007f/g, "\\u007f");

/** [start, end) of the lines of `[table]` (after its header), or null. */
function tableRange(lines, table) {
  const header = lines.findIndex((l) => l.trim() === `[${table}]`);
  if (header < 0) return null;
  let end = header + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end])) end++;
  return [header + 1, end];
}

const keyLine = (key) => new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*=`);

/**
 * `text` with, in `[table]`, each key of `set` given the TOML value (already
 * encoded, e.g. tomlString(x)) and each key of `remove` deleted. A key not
 * there yet is added after `after` (a key of the table) or after the table's
 * last key. Throws when the table is missing.
 */
export function editTable(text, table, { set = {}, remove = [], after } = {}) {
  const lines = text.split("\n");
  const range = () => {
    const r = tableRange(lines, table);
    if (!r) throw new Error(`wrangler.toml has no [${table}]`);
    return r;
  };
  for (const key of remove) {
    const [start, end] = range();
    for (let i = end - 1; i >= start; i--) if (keyLine(key).test(lines[i])) lines.splice(i, 1);
  }
  let anchorKey = after;
  for (const [key, value] of Object.entries(set)) {
    const [start, end] = range();
    const line = `${key} = ${value}`;
    const at = lines.slice(start, end).findIndex((l) => keyLine(key).test(l));
    if (at >= 0) {
      lines[start + at] = line;
      continue;
    }
    const anchor = anchorKey ? lines.slice(start, end).findIndex((l) => keyLine(anchorKey).test(l)) : -1;
    let insertAt;
    if (anchor >= 0) insertAt = start + anchor + 1;
    else {
      insertAt = start;
      for (let i = start; i < end; i++) if (/^\s*[A-Za-z0-9_-]+\s*=/.test(lines[i])) insertAt = i + 1;
    }
    lines.splice(insertAt, 0, line);
    anchorKey = key;
  }
  return lines.join("\n");
}
