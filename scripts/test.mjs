// Runs every test bundle in its own Node process (each owns one WebGPU device), then the
// browser-capable ones in headless Chromium, and prints the closing line `N passed, N failed`.
import { spawn } from 'node:child_process';
import { runBrowserTests } from './test-browser.mjs';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = readdirSync(`${root}build/test`)
  .filter((f) => f.endsWith('.test.js'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();

let passed = 0,
  failed = 0;
const started = Date.now();
for (const file of files) {
  const out = await new Promise((resolve) => {
    let text = '';
    // A tuning cache of its own: variants a developer tuned on this machine must not change what tests see.
    const env = { ...process.env, WEBGPU_CNN_TUNING: join(tmpdir(), `webgpu-cnn-test-tuning-${process.pid}.json`) };
    const child = spawn(process.execPath, ['--enable-source-maps', '--expose-gc', `build/test/${file}`], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => {
      text += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      // Dawn prints limit adjustments on every device; they are not test output.
      const s = String(d)
        .split('\n')
        .filter((l) => !/artificially reduced/.test(l))
        .join('\n');
      if (s.trim()) process.stderr.write(`${s}\n`);
    });
    child.on('close', (code) => resolve({ text, code }));
  });
  const total = Number(/Total:\s+(\d+)/.exec(out.text)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out.text)?.[1] ?? 0);
  passed += ok;
  failed += total - ok;
  if (out.code !== 0 && total === ok) {
    failed++;
    console.error(`${file}: exited with code ${out.code}`);
  }
}
console.log(`\n${files.length} test files in Node in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// The same test files again in headless Chromium (those that need no Node module).
const browserStarted = Date.now();
const browser = await runBrowserTests(only);
passed += browser.passed;
failed += browser.failed;
console.log(`\n${browser.files ?? 0} test files in Chromium in ${((Date.now() - browserStarted) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
