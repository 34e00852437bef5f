// The README is a test: every fenced code block in it runs here. TypeScript/JavaScript blocks are bundled
// with 'webgpu-cnn' resolved to this build (dist/) and run in Node from the repository root; shell blocks run
// in bash; the browser block runs in Chromium. A block that cannot run anywhere (it needs a file we do not
// ship, or it is the test suite itself) carries a visible reason on the line before it:
// `<!-- readme-test: skip: <reason> -->`. Output blocks (no language) are what the others print.
// @node-only: it spawns processes and a browser.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const test = suite('README');
const dir = mkdtempSync(join(tmpdir(), 'readme-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Block {
  lang: string;
  code: string;
  line: number;
  skip?: string;
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const marker = /<!--\s*readme-test:\s*skip:\s*(.+?)\s*-->/.exec(lines[start - 1] ?? '');
    out.push({ lang: open[1], code: body.join('\n'), line: start + 1, skip: marker?.[1] });
  }
  return out;
}

const all = blocks(readFileSync('README.md', 'utf8'));
const TIMEOUT_MS = 180_000;

function runTs(b: Block): void {
  // The bundle lives under build/ so that its external imports resolve from the repository's node_modules.
  const src = join(dir, `block-${b.line}.ts`),
    out = join(process.cwd(), 'build/readme', `block-${b.line}.mjs`);
  // Top-level await needs a module: wrap nothing, bundle as ESM; 'webgpu-cnn' is this package's build.
  writeFileSync(src, b.code);
  try {
    buildSync({
      entryPoints: [src],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outfile: out,
      logLevel: 'silent',
      alias: { 'webgpu-cnn': join(process.cwd(), 'dist/index.js') },
    });
  } catch (e) {
    assert.unreachable(`README line ${b.line}: does not compile:\n${(e as Error).message}`);
  }
  const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: TIMEOUT_MS });
  assert.is(r.status, 0, `README line ${b.line}: exited ${r.status}\n${r.stdout}\n${r.stderr}`);
}

function runSh(b: Block): void {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', b.code], { encoding: 'utf8', timeout: TIMEOUT_MS });
  assert.is(r.status, 0, `README line ${b.line}: exited ${r.status}\n${r.stdout}\n${r.stderr}`);
}

async function runHtml(b: Block): Promise<void> {
  const { serveRepo, launchChromium } = await import('../scripts/test-browser.mjs');
  // The page as a user writes it imports the package from node_modules; here the package is the repository.
  let page = b.code.replaceAll('./node_modules/webgpu-cnn/', '/');
  // The block's last module script says when it got to its end.
  const end = page.lastIndexOf('</script>');
  assert.ok(end >= 0, `README line ${b.line}: an html block needs a module script`);
  page = `${page.slice(0, end)}\nwindow.readmeDone = true;\n${page.slice(end)}`;
  const errors = `<script>window.addEventListener('error', (e) => console.log('README ERROR ' + e.message));</script>`;
  const { server, origin } = await serveRepo({ '/readme.html': `<!doctype html>${errors}${page}` });
  const browser = await launchChromium();
  try {
    const tab = await browser.context.newPage();
    const log: string[] = [];
    tab.on('console', (m: { text(): string }) => log.push(m.text()));
    tab.on('pageerror', (e: Error) => log.push(`README ERROR ${e.message}`));
    const failed = new Promise<never>((_, reject) =>
      tab.on('pageerror', (e: Error) => reject(new Error(`README line ${b.line}: ${e.message}`))),
    );
    await tab.goto(`${origin}/readme.html`);
    await Promise.race([
      tab.waitForFunction(() => (window as unknown as { readmeDone?: boolean }).readmeDone === true, undefined, {
        timeout: TIMEOUT_MS,
      }),
      failed,
    ]);
    assert.not.ok(
      log.some((l) => l.startsWith('README ERROR')),
      `README line ${b.line}: ${log.join('\n')}`,
    );
  } finally {
    await browser.close();
    server.close();
  }
}

test('every code block is run, or says why not', () => {
  for (const b of all) {
    if (!b.lang) continue; // printed output
    assert.ok(['ts', 'js', 'sh', 'html'].includes(b.lang), `README line ${b.line}: unknown block language '${b.lang}'`);
  }
  assert.ok(all.filter((b) => b.lang && !b.skip).length >= 4, 'the README has runnable blocks');
});

for (const b of all.filter((x) => x.lang && !x.skip)) {
  test(`README line ${b.line} (${b.lang}) runs`, async () => {
    if (b.lang === 'ts' || b.lang === 'js') runTs(b);
    else if (b.lang === 'sh') runSh(b);
    else await runHtml(b);
  });
}

test.run();
