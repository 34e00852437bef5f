// The layers of src/ import one way: gpu ← ops ← graph ← loaders (io), tuner ← models ← tools (the CLI).
// A file may import its own layer and the ones below it, never above; this reads every import to check.
// @node-only: it reads the source tree.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const test = suite('layers');

/** Lower layers first. Files not matched by a prefix are at the top (index.ts, cli.ts). */
const LAYERS: [string, number][] = [
  ['errors.ts', 0],
  ['env.ts', 0],
  ['progress.ts', 0],
  ['random.ts', 0],
  ['metrics.ts', 0],
  ['assets.ts', 0],
  ['wgsl.d.ts', 0],
  ['gpu/', 1],
  ['ops/', 2],
  ['graph/', 3],
  ['tensor.ts', 3],
  ['eager.ts', 3],
  ['io/', 4],
  ['tune/', 4],
  ['models/', 5],
  ['train/', 5],
  ['tools/', 6],
];

const layerOf = (file: string) => LAYERS.find(([prefix]) => file === prefix || file.startsWith(prefix))?.[1] ?? 7;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('every import in src/ points to the same layer or a lower one', () => {
  const violations: string[] = [];
  for (const path of sources('src')) {
    const file = relative('src', path);
    const text = readFileSync(path, 'utf8');
    for (const [, spec] of text.matchAll(/(?:from\s+|import\s*\(?)['"](\.[^'"]+)['"]/g)) {
      const target = relative('src', join(dirname(path), spec)).replace(/\.js$/, '.ts');
      if (target.startsWith('..')) continue; // shaders and assets
      if (layerOf(target) > layerOf(file))
        violations.push(`${file} (layer ${layerOf(file)}) imports ${target} (layer ${layerOf(target)})`);
    }
  }
  assert.equal(violations, []);
});

test.run();
