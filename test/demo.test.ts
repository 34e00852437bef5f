// The demo page in headless Chromium: it loads the bundled dog.jpg, lists the boxes and draws them,
// and a screenshot is kept in test/artifacts/demo.png.
import { mkdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { classColor } from '../src/models/yolo/draw.js';
import { launchChromium, serveRepo } from '../scripts/test-browser.mjs';

const test = suite('demo page');

test('detections on dog.jpg are listed and drawn; the adapter is shown', async () => {
  const { server, origin } = await serveRepo();
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/demo/index.html`);
    await page.waitForSelector('body[data-detections]', { timeout: 120_000 });
    const rows = await page.$$eval('#boxes tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
    );
    assert.equal(rows.map((r) => r[0]).sort(), ['bicycle', 'car', 'dog']);
    const dog = rows.find((r) => r[0] === 'dog')!;
    assert.match(dog[2], /\(11[3-6], 1(8[89]|9[0-2])\) \(40[4-8], 50[5-9]\)/);
    assert.match((await page.textContent('#status')) ?? '', /Adapter: /);
    // The dog's box is drawn in its class colour on the canvas (its left edge runs at x ≈ 114).
    const x = Number(/\((\d+),/.exec(dog[2])![1]);
    const pixel = await page.evaluate(
      ([px]) => {
        const c = document.getElementById('canvas') as HTMLCanvasElement;
        return Array.from(c.getContext('2d')!.getImageData(px, 350, 1, 1).data.slice(0, 3));
      },
      [x + 1],
    );
    assert.equal(pixel, classColor(16, 80));
    assert.ok((await page.$$eval('#layers tbody tr', (trs) => trs.length)) > 50, 'per-layer timing table');
    mkdirSync('test/artifacts', { recursive: true });
    await page.screenshot({ path: 'test/artifacts/demo.png', fullPage: true });
    assert.equal(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
