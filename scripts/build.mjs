// Bundles the library, CLI, tests and benchmarks with esbuild. `.wgsl` files are inlined as text,
// the one way shaders reach both Node and browsers.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const shared = {
  bundle: true,
  format: 'esm',
  loader: { '.wgsl': 'text' },
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
};
// Node bundles keep npm packages external: they are installed beside the package.
const node = { ...shared, platform: 'node', target: 'node20', packages: 'external' };

const list = (dir, suffix) => {
  try {
    return readdirSync(join(root, dir)).filter((f) => f.endsWith(suffix)).map((f) => join(dir, f));
  } catch {
    return [];
  }
};

const what = process.argv[2] ?? 'all';
const jobs = [];
if (what === 'all' || what === 'lib') {
  jobs.push(build({ ...node, entryPoints: ['src/index.ts', 'src/cli.ts'], outdir: 'dist' }));
}
if (what === 'all' || what === 'test') {
  jobs.push(build({ ...node, entryPoints: list('test', '.test.ts'), outdir: 'build/test' }));
}
if (what === 'all' || what === 'bench') {
  jobs.push(build({ ...node, entryPoints: list('bench', '.ts'), outdir: 'build/bench' }));
}
await Promise.all(jobs);
