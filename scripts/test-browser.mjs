// Runs the browser test bundles (build/browser-test/*.test.js: scripts/build.mjs bundles every test
// file that needs no Node module) in headless Chromium, one fresh page per file, each on the browser's own
// WebGPU (SwiftShader in Debian's chromium). Prints uvu's output and returns the totals.
// Uses Debian's /usr/bin/chromium through playwright-core; never downloads a browser.
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';

// The repository root: up from this file (which may be bundled into build/test/) to package.json.
const root = (() => {
  let dir = new URL('.', import.meta.url).pathname;
  while (dir !== '/' && !existsSync(join(dir, 'package.json'))) dir = `${join(dir, '..')}/`;
  return dir;
})();
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const TYPES = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.html': 'text/html',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.map': 'application/json',
};

/** Serves the repository read-only on 127.0.0.1 (a secure context, so navigator.gpu exists). */
export async function serveRepo(extra = {}, port = 0) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (extra[url.pathname]) {
      res.setHeader('content-type', 'text/html');
      res.end(extra[url.pathname]);
      return;
    }
    const path = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!path.startsWith(root) || !existsSync(path) || statSync(path).isDirectory()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-type', TYPES[extname(path)] ?? 'application/octet-stream');
    res.end(readFileSync(path));
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

export async function launchChromium() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: npm run setup installs Debian's chromium`);
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'xdg-'));
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>webgpu-cnn tests</title>
<script type="module">
  const file = new URLSearchParams(location.search).get('file');
  import('/' + file).catch((e) =>
    console.log('Total:     1\\nPassed:    0\\nDuration: 0ms\\nLOAD ERROR ' + (e && e.stack || e)),
  );
</script>`;

/** Runs one bundle in a fresh page; resolves with uvu's totals once it prints its duration line. */
async function runFile(context, origin, file, timeoutMs) {
  const page = await context.newPage();
  let text = '';
  const done = new Promise((resolve) => {
    page.on('console', (msg) => {
      const line = msg.text();
      text += `${line}\n`;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours uvu prints
      process.stdout.write(`${line.replace(/\x1b\[[0-9;]*m/g, '')}\n`);
      if (/Duration:/.test(line)) resolve();
    });
    page.on('pageerror', (e) => {
      text += `Total: 1\nPassed: 0\n${e.stack}\n`;
      resolve();
    });
  });
  await page.goto(`${origin}/index.html?file=${encodeURIComponent(file)}`);
  const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  const outcome = await Promise.race([done, timer]);
  await page.close();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours uvu prints
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (outcome === 'timeout')
    return { passed, failed: Math.max(total - passed, 1), note: `timed out after ${timeoutMs / 1000} s` };
  return { passed, failed: total - passed };
}

export async function runBrowserTests(only = []) {
  const dir = join(root, 'build/browser-test');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => !only.length || only.some((o) => f.includes(o)))
    .sort();
  if (!files.length) return { passed: 0, failed: 0 };
  const { server, origin } = await serveRepo({ '/index.html': PAGE });
  let browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    server.close();
    console.log(`browser tests: ${e.message}`);
    return { passed: 0, failed: 1 };
  }
  let passed = 0,
    failed = 0;
  try {
    for (const f of files) {
      console.log(`\n[chromium] ${f}`);
      const r = await runFile(browser.context, origin, `build/browser-test/${f}`, 300_000);
      if (r.note) console.log(`[chromium] ${f}: ${r.note}`);
      passed += r.passed;
      failed += r.failed;
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { passed, failed, files: files.length };
}

if (process.argv[1]?.endsWith('scripts/test-browser.mjs')) {
  const r = await runBrowserTests(process.argv.slice(2));
  console.log(`\n${r.files ?? 0} test files in chromium\n${r.passed} passed, ${r.failed} failed`);
  process.exit(r.failed ? 1 : 0);
}
