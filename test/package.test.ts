// @node-only: the package as a new user gets it. Packs the lib build (npm test builds it first),
// installs the tarball into an empty project, type-checks test/package-consumer/ with a strict tsc
// (NodeNext and Bundler resolution) and runs it, runs the CLI through npx, require()s the package,
// bundles the browser entry with esbuild, and builds the API reference. Each step prints its time.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const test = suite('package');
const root = process.cwd();
const work = mkdtempSync(join(tmpdir(), 'package-test-'));
const consumer = join(work, 'consumer');
test.after(() => rmSync(work, { recursive: true, force: true }));

const TSC = join(root, 'node_modules/typescript/bin/tsc');
const DOG = join(root, 'assets/images/dog.jpg');
const MNIST = join(root, 'test/fixtures/keras/moonflower_mnist_cnn_keras3.1.1.keras');
const DIGIT = join(root, 'test/fixtures/keras/moonflower_8.png');

// Children get no npm_* variables from an outer `npm test`: they would configure the consumer's npm.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
env.XDG_RUNTIME_DIR ??= '/tmp/xdg-runtime-0';

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(cmd: string, args: string[], cwd: string): Run {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Runs and requires exit 0, failing with the command and the end of its output. */
function ok(cmd: string, args: string[], cwd: string): Run {
  const r = run(cmd, args, cwd);
  assert.is(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}:\n${(r.out + r.err).slice(-4000)}`);
  return r;
}

/** Times a step and prints it, so a slow step shows in CI's log. */
async function step<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    console.log(`  package: ${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Every file under `dir`, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

let tarball = '';
let installed = false;

test('npm pack ships the bundles, declarations and LICENSE, not src/', async () => {
  // --ignore-scripts: prepack would rebuild dist/, which the test run already built.
  const r = await step('npm pack', () =>
    ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root),
  );
  const [pack] = JSON.parse(r.out) as { filename: string; size: number; files: { path: string }[] }[];
  tarball = join(work, pack.filename);
  const files = pack.files.map((f) => f.path);
  console.log(`  package: ${pack.filename}, ${(pack.size / 2 ** 20).toFixed(1)} MiB, ${files.length} files`);
  const expected = ['LICENSE', 'README.md', 'dist/index.js', 'dist/cli.js', 'dist/browser.js', 'dist/types/index.d.ts'];
  for (const f of expected) assert.ok(files.includes(f), `${f} not in the package`);
  assert.equal(
    files.filter((f) => f.startsWith('src/')),
    [],
    'src/ is not shipped (source maps embed it)',
  );
});

test('the tarball installs into an empty project', async () => {
  assert.ok(tarball, 'no tarball');
  mkdirSync(consumer, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // A Node project's own @types/node, the version the repo has (so it is in the npm cache).
  const nodeTypes = JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')).version;
  const args = ['install', '--no-audit', '--no-fund', tarball, `@types/node@${nodeTypes}`];
  // The dependencies are in the npm cache since the repo installed them; the registry only if one is not.
  await step('npm install', () => {
    const offline = run('npm', [...args, '--offline'], consumer);
    if (offline.code !== 0) {
      console.log(`  package: offline install failed, retrying online:\n${offline.err.slice(-1000)}`);
      ok('npm', args, consumer);
    }
  });
  installed = true;
  // Declarations stand alone: none imports a shader, a JSON file or sources the package does not ship.
  const types = join(consumer, 'node_modules/webgpu-cnn/dist/types');
  const sourceOnly = /(?:from\s*|import\()['"][^'"]*(?:\.wgsl|\.json|\/src\/)[^'"]*['"]/;
  for (const file of walk(types).filter((f) => f.endsWith('.d.ts'))) {
    assert.not.match(readFileSync(file, 'utf8'), sourceOnly, `${relative(types, file)} imports a source-only module`);
  }
  assert.match(readFileSync(join(types, 'index.d.ts'), 'utf8'), /^\/\/\/ <reference types="@webgpu\/types" \/>/);
});

test('a strict TypeScript consumer type-checks (NodeNext and Bundler) and runs', async () => {
  assert.ok(installed, 'not installed');
  const files = ['consumer.ts', 'browser.ts'];
  for (const f of files) copyFileSync(join(root, 'test/package-consumer', f), join(consumer, f));
  // No skipLibCheck: the package's declarations, @webgpu/types and the DOM lib are checked too, as in a
  // project that has it off.
  const tsc = (...args: string[]) =>
    ok(process.execPath, [TSC, '--strict', '--target', 'ES2022', ...args, ...files], consumer);
  await step('tsc NodeNext (and emit)', () =>
    tsc('--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--outDir', 'out'),
  );
  // The same declarations again (the "types" condition comes first under both): checking them a second
  // time would only double the step (DOM, Node and WebGPU libs), so this pass checks the resolution.
  await step('tsc Bundler', () =>
    tsc('--module', 'ESNext', '--moduleResolution', 'Bundler', '--noEmit', '--skipLibCheck'),
  );
  const r = await step('run consumer.js', () => ok(process.execPath, ['out/consumer.js', DOG, MNIST, DIGIT], consumer));
  const report = JSON.parse(r.out.trim().split('\n').at(-1)!) as {
    detections: string[];
    digit: number;
    probabilitySum: number;
    conv: number[];
  };
  assert.equal([...report.detections].sort(), ['bicycle', 'car', 'dog'], r.out);
  assert.is(report.digit, 8); // the fixture's label
  assert.ok(Math.abs(report.probabilitySum - 1) < 1e-4, `softmax sums to ${report.probabilitySum}`);
  assert.equal(report.conv, boxFilter3x3(4));
});

/** The 3×3 all-ones conv, 'same' zero padding, of an n×n ramp 0, 1, 2, …: each output is its window's sum. */
function boxFilter3x3(n: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (y + dy >= 0 && y + dy < n && x + dx >= 0 && x + dx < n) s += (y + dy) * n + x + dx;
        }
      }
      out.push(s);
    }
  }
  return out;
}

test('the CLI runs through npx in the consumer project', async () => {
  assert.ok(installed, 'not installed');
  // As a user types them: the local bin, so npx fetches nothing.
  const help = await step('npx webgpu-cnn --help', () => ok('npx', ['webgpu-cnn', '--help'], consumer));
  assert.match(help.out, /detect/);
  const r = await step('npx webgpu-cnn detect', () =>
    ok('npx', ['webgpu-cnn', 'detect', DOG, '--out', 'x.jpg'], consumer),
  );
  assert.match(r.out, /dog: \d+%/);
  const jpeg = readFileSync(join(consumer, 'x.jpg'));
  assert.equal([jpeg[0], jpeg[1]], [0xff, 0xd8], 'x.jpg is a JPEG');
});

test('require() loads the package where Node can require ES modules, else fails with ERR_REQUIRE_ESM', async () => {
  assert.ok(installed, 'not installed');
  // The package is ESM only; Node 20.19+ and 22.12+ require() it (no top-level await in the bundle).
  const script = `let r; try { r = typeof require('webgpu-cnn').Detector; } catch (e) { r = e.code; }
    console.log(JSON.stringify({ r, esm: !!process.features.require_module }));`;
  const r = await step('require()', () => ok(process.execPath, ['--no-warnings', '-e', script], consumer));
  const { r: got, esm } = JSON.parse(r.out) as { r: string; esm: boolean };
  console.log(`  package: require('webgpu-cnn') on Node ${process.version}: ${got}`);
  assert.is(got, esm ? 'function' : 'ERR_REQUIRE_ESM');
});

test('a browser bundle (esbuild, platform browser) resolves the browser build', async () => {
  assert.ok(installed, 'not installed');
  const result = await step('esbuild browser bundle', () =>
    build({
      entryPoints: ['browser.ts'],
      absWorkingDir: consumer,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      splitting: true,
      outdir: 'web',
      metafile: true,
      logLevel: 'silent',
    }),
  );
  assert.equal(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(
    inputs.some((f) => f.endsWith('webgpu-cnn/dist/browser.js')),
    'bundled the browser build',
  );
  assert.not.ok(
    inputs.some((f) => f.endsWith('webgpu-cnn/dist/index.js')),
    'did not bundle the Node build',
  );
  for (const w of result.warnings) console.log(`  package: esbuild warning: ${w.text}`);
});

test('the API reference builds from the doc comments with no warnings', async () => {
  const out = join(work, 'api');
  const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
  const r = await step('typedoc', () =>
    ok(process.execPath, [typedoc, '--tsconfig', 'tsconfig.types.json', '--out', out], root),
  );
  assert.not.match(r.out + r.err, /warning/i, r.out + r.err);
  for (const page of ['index.html', 'classes/Detector.html', 'functions/loadKerasModel.html']) {
    assert.ok(existsSync(join(out, page)), `${page} not generated`);
  }
});

test.run();
