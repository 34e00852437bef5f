// The demo's teach mode in headless Chromium, on the generated shapes (test/fixtures/transfer): a base
// file, three images for each of four classes, training in the page with a live loss curve, the
// current image classified, and the trained head downloaded as a .keras archive.
import { readFileSync } from 'node:fs';
import { unzipSync, strFromU8 } from 'fflate';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium, serveRepo } from '../scripts/test-browser.mjs';

const test = suite('demo teach mode');
const DIR = 'test/fixtures/transfer';
const CLASSES = JSON.parse(readFileSync(`${DIR}/classes.json`, 'utf8')) as string[];

test('teach four shapes from 3 images each, watch the loss fall, classify, download head.keras', async () => {
  const { server, origin } = await serveRepo();
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/demo/index.html`);
    await page.waitForSelector('body[data-detections]', { timeout: 120_000 });
    await page.setInputFiles('#teach-base', `${DIR}/base.h5`);
    await page.fill('#teach-layer', 'block5_pool');
    await page.click('#teach-add');
    await page.click('#teach-add');
    const rows = await page.$$('.teach-class');
    assert.is(rows.length, 4);
    for (const [i, name] of CLASSES.entries()) {
      await (await rows[i].$('.teach-name'))!.fill(name);
      await (await rows[i].$('.teach-files'))!.setInputFiles(
        [0, 1, 2].map((k) => `${DIR}/images/train/${name}/00${k}.png`),
      );
    }
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('.teach-count')).every((c) => c.textContent === '3 images'),
    );
    await page.fill('#teach-epochs', '40');
    await page.click('#teach-train');
    await page.waitForSelector('body[data-taught]', { timeout: 120_000 });
    const curve = await page.$eval('#teach-curve', (c) => ({
      points: Number(c.dataset.points),
      losses: (c.dataset.losses ?? '').split(',').map(Number),
    }));
    assert.is(curve.points, 40);
    assert.ok(curve.losses[39] < curve.losses[0] / 2, `loss ${curve.losses[0]} → ${curve.losses[39]}`);
    // A training image, now the page's current one: the head names its class.
    await page.setInputFiles('#image-file', `${DIR}/images/train/${CLASSES[2]}/001.png`);
    await page.waitForFunction((want) => document.body.dataset.teachTop === want, CLASSES[2], { timeout: 60_000 });
    assert.is(await page.$$eval('#teach-result tr', (trs) => trs.length), 4);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#teach-download')]);
    const files = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    assert.equal(Object.keys(files).sort(), ['config.json', 'metadata.json', 'model.weights.h5']);
    const config = JSON.parse(strFromU8(files['config.json']));
    assert.equal(
      config.config.layers.map((l: { class_name: string }) => l.class_name),
      ['InputLayer', 'Dense', 'Dropout', 'Dense'],
    );
    assert.is(config.config.layers[3].config.units, 4);
    assert.equal(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
