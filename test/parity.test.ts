// The same inputs give the same outputs in Node (Dawn on lavapipe) and in Chromium (its own WebGPU on
// SwiftShader) to 1e-5: the bundled Yolo-Fastest's two heads and a real Keras model, each run in both.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector } from '../src/models/yolo/detector.js';
import { decodeImage, imageToArray } from '../src/io/image.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { launchChromium, serveRepo } from '../scripts/test-browser.mjs';
import { assertClose, withGpu } from './harness.js';

const test = suite('node / chromium parity');
const gpu = withGpu(test);

test('Yolo-Fastest heads and a Keras 3 MNIST model agree between Node and Chromium to 1e-5', async () => {
  const det = await Detector.load({ ctx: await gpu() });
  const input = det.prepare(await decodeImage('test/fixtures/darknet/dog.stb.png'));
  const nodeHeads = (await det.forward(input)).outputs;
  det.dispose();
  const digit = imageToArray(await decodeImage('test/fixtures/keras/moonflower_8.png'), 1).map((v) => v / 255);
  const { model } = await loadKerasModel('test/fixtures/keras/moonflower_mnist_cnn_keras3.1.1.keras', {
    ctx: await gpu(),
  });
  const nodeProbs = await model.predict(digit);
  model.dispose();

  const { server, origin } = await serveRepo({ '/index.html': '<!doctype html><title>parity</title>' });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${origin}/index.html`);
    const result = await page.evaluate(
      async ([heads, digitData]) => {
        const bundle = '/dist/browser.js'; // the page's own copy of the library, not this process's
        const lib = await import(bundle);
        const ctx = await lib.GpuContext.create();
        const det = await lib.Detector.load({ ctx });
        const out = await det.forward(Float32Array.from(heads as number[]));
        const { model } = await lib.loadKerasModel('/test/fixtures/keras/moonflower_mnist_cnn_keras3.1.1.keras', {
          ctx,
        });
        const probs = await model.predict(Float32Array.from(digitData as number[]));
        const adapter = ctx.description;
        det.dispose();
        model.dispose();
        ctx.dispose();
        return { heads: out.outputs.map((o: Float32Array) => Array.from(o)), probs: Array.from(probs), adapter };
      },
      [Array.from(input), Array.from(digit)],
    );
    assert.match(result.adapter, /swiftshader|google/i);
    nodeHeads.forEach((h, i) => assertClose(result.heads[i] as number[], h, 1e-5, `yolo head ${i}`, 'normalized'));
    assertClose(result.probs as number[], nodeProbs, 1e-5, 'mnist probabilities');
  } finally {
    await browser.close();
    server.close();
  }
});

test('in Chromium, an <img>, an ImageBitmap and a canvas give the same pixels as decoding the PNG', async () => {
  const { server, origin } = await serveRepo({ '/index.html': '<!doctype html><title>images</title>' });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${origin}/index.html`);
    const same = await page.evaluate(async () => {
      const bundle = '/dist/browser.js';
      const lib = await import(bundle);
      const url = '/test/fixtures/pillow/src_37x29.png';
      const decoded = await lib.decodeImage(url);
      const img = new Image();
      img.src = url;
      await img.decode();
      const bitmap = await createImageBitmap(await (await fetch(url)).blob());
      const canvas = document.createElement('canvas');
      canvas.width = 37;
      canvas.height = 29;
      canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
      return [img, bitmap, canvas].map((source) => {
        const got = lib.fromImageSource(source);
        return got.width === 37 && got.height === 29 && got.data.every((v: number, i: number) => v === decoded.data[i]);
      });
    });
    assert.equal(same, [true, true, true]);
  } finally {
    await browser.close();
    server.close();
  }
});

test.run();
