// Bundles the library, CLI, tests and benchmarks with esbuild. `.wgsl` files are inlined as text,
// the one way shaders reach both Node and browsers.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// The shader catalogue (src/gpu/shaders.generated.ts) comes first: everything imports it.
await import('./gen-shaders.mjs');
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
  plugins: [
    {
      name: 'no-node-builds',
      setup(b) {
        b.onResolve({ filter: /^h5wasm\/node$/ }, () => ({ path: 'h5wasm-node', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default undefined;' }));
      },
    },
  ],
};

// The published browser build has no `node:*` specifiers left: a page's bundler (esbuild, Vite, webpack)
// fails on them even behind runtime checks. Each becomes a module that fails to load, as the specifier
// would in a browser, should a check ever let one through.
const noNodeModules = {
  name: 'no-node-modules',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, () => ({ path: 'node-builtin', namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      contents: "throw new Error('webgpu-cnn: a Node built-in module was loaded in a browser');",
    }));
  },
};

/** MozJPEG's wasm files sit beside the bundle that loads them (it finds them via import.meta.url). */
function copyJpegWasm(outdir) {
  mkdirSync(join(root, outdir), { recursive: true });
  for (const codec of ['dec', 'enc']) {
    copyFileSync(
      join(root, `node_modules/@jsquash/jpeg/codec/${codec}/mozjpeg_${codec}.wasm`),
      join(root, outdir, `mozjpeg_${codec}.wasm`),
    );
  }
}

const list = (dir, suffix) => {
  try {
    return readdirSync(join(root, dir))
      .filter((f) => f.endsWith(suffix))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
};

/** Every file under `dir` (relative to the root), recursively. */
function walk(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

const TYPES = 'dist/types';
const TYPES_ENTRY = join(root, TYPES, 'index.d.ts');
const TYPES_INFO = join(root, 'build/types.tsbuildinfo'); // tsconfig.types.json's tsBuildInfoFile

/** Runs tsc with the given arguments; rejects with its output when it reports errors. */
function tsc(...args) {
  const bin = join(root, 'node_modules/typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tsc ${args.join(' ')}:\n${out}`))));
  });
}

/** The declaration files that the entry reaches through relative imports: those there and those missing. */
function reachDeclarations() {
  const reached = new Set();
  const missing = [];
  const queue = [TYPES_ENTRY];
  while (queue.length) {
    const file = queue.pop();
    if (reached.has(file) || missing.includes(file)) continue;
    if (!existsSync(file)) {
      missing.push(file);
      continue;
    }
    reached.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from\s*|import\()['"](\.[^'"]+)['"]/g)) {
      queue.push(join(dirname(file), spec.replace(/\.js$/, '.d.ts')));
    }
  }
  return { reached, missing };
}

/** True when the declarations are complete and newer than every source and config (tsc takes seconds). */
function typesFresh() {
  if (!existsSync(TYPES_ENTRY) || reachDeclarations().missing.length) return false;
  const built = statSync(TYPES_ENTRY).mtimeMs;
  const inputs = [...walk('src'), 'tsconfig.json', 'tsconfig.types.json', 'package.json'];
  return inputs.every((f) => statSync(join(root, f)).mtimeMs <= built);
}

/**
 * The consumers' declarations (dist/types, the API of src/index.ts for both the Node and browser builds).
 * The entry references @webgpu/types, a dependency, so the GPU* types in them resolve in any project.
 * A type error fails the build; the bundles are still written, so `node dist/cli.js` runs.
 */
async function declarations() {
  if (typesFresh()) return pruneDeclarations(); // and so also after a tsc run by hand
  let failure;
  try {
    await tsc('-p', 'tsconfig.types.json');
    // tsc trusts its build info over the outputs: declarations deleted since are not written again.
    if (reachDeclarations().missing.length) {
      rmSync(TYPES_INFO, { force: true });
      await tsc('-p', 'tsconfig.types.json');
    }
  } catch (e) {
    failure = e;
  }
  pruneDeclarations();
  if (!existsSync(TYPES_ENTRY)) throw failure ?? new Error(`tsc wrote no ${TYPES_ENTRY}`);
  const text = readFileSync(TYPES_ENTRY, 'utf8');
  const reference = '/// <reference types="@webgpu/types" />\n';
  if (!text.startsWith(reference)) writeFileSync(TYPES_ENTRY, reference + text);
  // tsc rewrites only what changed: the entry's time is what typesFresh compares. After a failure it is
  // made older than any source, so that the next build runs tsc (and reports the errors) again.
  const when = failure ? new Date(0) : new Date();
  utimesSync(TYPES_ENTRY, when, when);
  if (failure) {
    console.error(failure.message);
    process.exitCode = 1;
  }
}

/**
 * Keeps only what the entry reaches: tsc also declares modules that the API imports only for their code
 * (the tuner, say), and leaves those of sources since moved or removed.
 */
function pruneDeclarations() {
  if (!existsSync(TYPES_ENTRY)) return;
  const { reached } = reachDeclarations();
  for (const f of walk(TYPES)) {
    if (!reached.has(join(root, f))) rmSync(join(root, f));
  }
}

/** Removes bundles in dist/ that the lib build no longer writes (old chunks would be shipped otherwise). */
function pruneDist(results) {
  const keep = new Set(results.flatMap((r) => Object.keys(r.metafile.outputs)).map((f) => join(root, f)));
  for (const e of readdirSync(join(root, 'dist'), { withFileTypes: true })) {
    const file = join(root, 'dist', e.name);
    if (e.isFile() && /\.js(\.map)?$/.test(e.name) && !keep.has(file)) rmSync(file);
  }
}

const what = process.argv[2] ?? 'all';
const jobs = [];
const dist = []; // the builds that write dist/, for pruneDist
if (what === 'all' || what === 'lib') {
  dist.push(
    build({ ...node, entryPoints: ['src/index.ts', 'src/cli.ts', 'src/cli-main.ts'], outdir: 'dist', metafile: true }),
  );
  jobs.push(dist[0], declarations());
}
if (what === 'all' || what === 'lib' || what === 'browser') {
  // Split so h5wasm (4 MB of wasm), JSZip and MozJPEG load only when a file needs them.
  const browserLib = build({
    ...browser,
    entryPoints: { browser: 'src/index.ts' },
    outdir: 'dist',
    splitting: true,
    chunkNames: '[name]-[hash]',
    metafile: true,
    plugins: [...browser.plugins, noNodeModules],
  });
  dist.push(browserLib);
  jobs.push(browserLib.then(() => copyJpegWasm('dist')));
}
// Once both have written dist/, any other bundle there is left over from an earlier build.
if (dist.length === 2) jobs.push(Promise.all(dist).then(pruneDist));
if (what === 'all' || what === 'demo') {
  jobs.push(
    build({
      ...browser,
      entryPoints: ['demo/demo.ts'],
      outdir: 'build/demo',
      splitting: true,
      chunkNames: '[name]-[hash]',
    }).then(() => copyJpegWasm('build/demo')),
  );
}
if (what === 'all' || what === 'test') {
  jobs.push(build({ ...node, entryPoints: list('test', '.test.ts'), outdir: 'build/test' }));
  // The same test files, bundled for the page the browser runner opens (scripts/test-browser.mjs):
  // all but those that need Node (they import a node: module, the scripts or the benchmark, or say @node-only).
  const browserCapable = list('test', '.test.ts').filter(
    (f) => !/from ['"](node:|\.\.\/scripts\/|\.\.\/bench\/)|@node-only/.test(readFileSync(join(root, f), 'utf8')),
  );
  rmSync(join(root, 'build/browser-test'), { recursive: true, force: true });
  jobs.push(
    build({ ...browser, entryPoints: browserCapable, outdir: 'build/browser-test' }).then(() =>
      copyJpegWasm('build/browser-test'),
    ),
  );
}
if (what === 'all' || what === 'bench') {
  jobs.push(build({ ...node, entryPoints: list('bench', '.ts'), outdir: 'build/bench' }));
  // The page of `--peers --browser` (bench/browser-peers.ts), with TF.js bundled in.
  jobs.push(build({ ...browser, entryPoints: ['bench/browser/peers-page.ts'], outdir: 'build/bench-browser' }));
}
await Promise.all(jobs);
