// Bundles the library, CLI, tests and benchmarks with esbuild. `.wgsl` files are inlined as text,
// the one way shaders reach both Node and browsers.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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

// Browser bundles carry their npm dependencies. Node-only branches stay behind runtime checks:
// `node:*` imports are left external, and h5wasm's Node build is replaced by an empty module.
const browser = {
  ...shared,
  platform: 'browser',
  target: 'es2022',
  external: ['node:*'],
  plugins: [{
    name: 'no-node-builds',
    setup(b) {
      b.onResolve({ filter: /^h5wasm\/node$/ }, () => ({ path: 'h5wasm-node', namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default undefined;' }));
    },
  }],
};

/** MozJPEG's wasm files sit beside the bundle that loads them (it finds them via import.meta.url). */
function copyJpegWasm(outdir) {
  mkdirSync(join(root, outdir), { recursive: true });
  for (const codec of ['dec', 'enc']) {
    copyFileSync(join(root, `node_modules/@jsquash/jpeg/codec/${codec}/mozjpeg_${codec}.wasm`), join(root, outdir, `mozjpeg_${codec}.wasm`));
  }
}

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
if (what === 'all' || what === 'lib' || what === 'browser') {
  // Split so h5wasm (4 MB of wasm), JSZip and MozJPEG load only when a file needs them.
  jobs.push(build({ ...browser, entryPoints: { browser: 'src/index.ts' }, outdir: 'dist', splitting: true, chunkNames: '[name]-[hash]' })
    .then(() => copyJpegWasm('dist')));
}
if (what === 'all' || what === 'demo') {
  jobs.push(build({ ...browser, entryPoints: ['demo/demo.ts'], outdir: 'build/demo', splitting: true, chunkNames: '[name]-[hash]' })
    .then(() => copyJpegWasm('build/demo')));
}
if (what === 'all' || what === 'test') {
  jobs.push(build({ ...node, entryPoints: list('test', '.test.ts'), outdir: 'build/test' }));
  // The same test files, bundled for the page the browser runner opens (scripts/test-browser.mjs):
  // all but those that need Node (they import a node: module, the scripts or the benchmark, or say @node-only).
  const browserCapable = list('test', '.test.ts').filter((f) => !/from ['"](node:|\.\.\/scripts\/|\.\.\/bench\/)|@node-only/.test(readFileSync(join(root, f), 'utf8')));
  rmSync(join(root, 'build/browser-test'), { recursive: true, force: true });
  jobs.push(build({ ...browser, entryPoints: browserCapable, outdir: 'build/browser-test' }).then(() => copyJpegWasm('build/browser-test')));
}
if (what === 'all' || what === 'bench') {
  jobs.push(build({ ...node, entryPoints: list('bench', '.ts'), outdir: 'build/bench' }));
}
await Promise.all(jobs);
