// Lists every line over 120 characters in the project's own sources (src, test, bench and demo
// TypeScript, scripts' .mjs; not test fixtures or generated files) as `file:line: length`, and exits 1 if
// there is one. Biome's formatter keeps code within 120 columns but cannot break a long string, regex or
// comment; this catches those. Run by `npm run lint`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const MAX = 120;
const SETS = [
  ['src', '.ts'],
  ['test', '.ts'],
  ['bench', '.ts'],
  ['scripts', '.mjs'],
  ['demo', '.ts'],
];

/** Files under `dir` ending in `ext`, less fixtures, dependencies and generated code, in name order. */
function sources(dir, ext) {
  const found = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'node_modules') found.push(...sources(path, ext));
    } else if (entry.name.endsWith(ext) && !entry.name.endsWith('.generated.ts')) found.push(path);
  }
  return found.sort();
}

let long = 0;
for (const [dir, ext] of SETS) {
  for (const file of sources(dir, ext)) {
    readFileSync(join(root, file), 'utf8')
      .split(/\r?\n/)
      .forEach((line, i) => {
        // Characters (code points), as the formatter's line width counts them, not UTF-16 units or bytes.
        const length = [...line].length;
        if (length > MAX) {
          console.log(`${file}:${i + 1}: ${length}`);
          long++;
        }
      });
  }
}
if (long) {
  console.error(`${long} line(s) over ${MAX} characters`);
  process.exit(1);
}
