// VGG16 end to end from weight files in Keras's exact legacy layout (written here with deterministic
// weights), against an independent float64 forward pass written below. CI runs the whole network at
// 1/8 width, the full-width convolutions at a small input, and the full-size model (fc1 = 411 MB,
// over lavapipe's 128 MiB binding limit) with its classifier checked from block5_pool.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KerasModelSpec } from '../src/io/keras-config.js';
import { decodeImage, imageToArray, resizeImage } from '../src/io/image.js';
import { decodePredictions, preprocessInput } from '../src/models/imagenet.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { vgg16Architecture } from '../src/models/vgg16.js';
import { assertClose, withGpu } from './harness.js';
import { chainWeights, writeLegacyWeightsH5, type LayerWeights } from './keras-writer.js';

const test = suite('vgg16');
const gpu = withGpu(test);
const dir = mkdtempSync(join(tmpdir(), 'vgg16-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Independent float64 VGG forward: 3×3 same conv + ReLU, 2×2 max pool, HWC flatten, dense, softmax. */
function referenceVgg(
  x: Float64Array,
  [h0, w0, c0]: number[],
  spec: KerasModelSpec,
  weights: Map<string, LayerWeights>,
  stopAt?: string,
) {
  let h = h0,
    w = w0,
    c = c0,
    a = x;
  for (const layer of spec.layers) {
    const cfg = layer.config;
    if (layer.className === 'Conv2D') {
      const [k, b] = weights.get(layer.name)!;
      const oc = cfg.filters as number;
      const y = new Float64Array(h * w * oc);
      for (let oy = 0; oy < h; oy++)
        for (let ox = 0; ox < w; ox++) {
          const acc = Float64Array.from(b.data);
          for (let ky = 0; ky < 3; ky++) {
            const iy = oy + ky - 1;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < 3; kx++) {
              const ix = ox + kx - 1;
              if (ix < 0 || ix >= w) continue;
              for (let ci = 0; ci < c; ci++) {
                const v = a[(iy * w + ix) * c + ci];
                const base = ((ky * 3 + kx) * c + ci) * oc;
                for (let o = 0; o < oc; o++) acc[o] += v * k.data[base + o];
              }
            }
          }
          for (let o = 0; o < oc; o++) y[(oy * w + ox) * oc + o] = Math.max(acc[o], 0);
        }
      a = y;
      c = oc;
    } else if (layer.className === 'MaxPooling2D') {
      const oh = Math.floor(h / 2),
        ow = Math.floor(w / 2);
      const y = new Float64Array(oh * ow * c);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++)
          for (let ch = 0; ch < c; ch++) {
            let m = -Infinity;
            for (let dy = 0; dy < 2; dy++)
              for (let dx = 0; dx < 2; dx++) m = Math.max(m, a[((2 * oy + dy) * w + 2 * ox + dx) * c + ch]);
            y[(oy * ow + ox) * c + ch] = m;
          }
      a = y;
      h = oh;
      w = ow;
    } else if (layer.className === 'GlobalAveragePooling2D' || layer.className === 'GlobalMaxPooling2D') {
      const y = new Float64Array(c).fill(layer.className === 'GlobalMaxPooling2D' ? -Infinity : 0);
      for (let p = 0; p < h * w; p++)
        for (let ch = 0; ch < c; ch++) {
          y[ch] =
            layer.className === 'GlobalMaxPooling2D' ? Math.max(y[ch], a[p * c + ch]) : y[ch] + a[p * c + ch] / (h * w);
        }
      a = y;
    } else if (layer.className === 'Dense') {
      const [k, b] = weights.get(layer.name)!;
      const units = cfg.units as number;
      const y = Float64Array.from(b.data);
      for (let i = 0; i < a.length; i++) {
        const v = a[i];
        if (v !== 0) for (let o = 0; o < units; o++) y[o] += v * k.data[i * units + o];
      }
      if (cfg.activation === 'relu') for (let o = 0; o < units; o++) y[o] = Math.max(y[o], 0);
      if (cfg.activation === 'softmax') {
        const m = Math.max(...y);
        let s = 0;
        for (let o = 0; o < units; o++) s += y[o] = Math.exp(y[o] - m);
        for (let o = 0; o < units; o++) y[o] /= s;
      }
      a = y;
    }
    if (layer.name === stopAt) break;
  }
  return a;
}

/** dog.jpg resized the load_img way and preprocessed the caffe way, computed here independently. */
async function dogInput(size: number): Promise<{ rgb: Float32Array; expected: Float64Array }> {
  const rgb = imageToArray(resizeImage(await decodeImage('assets/images/dog.jpg'), size, size, 'nearest'), 3);
  const mean = [103.939, 116.779, 123.68];
  const expected = new Float64Array(rgb.length);
  for (let p = 0; p < rgb.length; p += 3) for (let c = 0; c < 3; c++) expected[p + c] = rgb[p + 2 - c] - mean[c];
  return { rgb, expected };
}

test('preprocess_input caffe flips to BGR and subtracts the mean; tf and torch scale', async () => {
  const { rgb, expected } = await dogInput(32);
  assertClose(preprocessInput(rgb, 'caffe'), expected, 1e-4, 'caffe');
  const x = Float32Array.from([0, 127.5, 255]);
  assertClose(preprocessInput(x, 'tf'), [-1, 0, 1], 1e-6, 'tf');
  assertClose(preprocessInput(x, 'torch'), [-0.485 / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225], 1e-5, 'torch');
});

test('VGG16 at 1/8 width with its top, batch 2, matches the float64 reference', async () => {
  const spec = vgg16Architecture({ width: 1 / 8 });
  const weights = chainWeights(spec, [224, 224, 3], 100);
  const file = join(dir, 'vgg16_eighth.h5');
  await writeLegacyWeightsH5(file, spec, weights);
  const { model, info } = await loadKerasModel(file, { ctx: await gpu(), architecture: spec });
  try {
    assert.is(info.format, 'h5-weights-only');
    const { rgb, expected } = await dogInput(224);
    const flipped = Float32Array.from(rgb).reverse(); // a second, different image
    const x = new Float32Array(2 * rgb.length);
    x.set(preprocessInput(rgb), 0);
    x.set(preprocessInput(flipped), rgb.length);
    const probs = await model.predict(x);
    const ref0 = referenceVgg(expected, [224, 224, 3], spec, weights);
    const ref1 = referenceVgg(Float64Array.from(preprocessInput(flipped)), [224, 224, 3], spec, weights);
    assertClose(probs.subarray(0, 1000), ref0, 1e-5, 'image 0 probabilities');
    assertClose(probs.subarray(1000), ref1, 1e-5, 'image 1 probabilities');
    const top = decodePredictions(probs, 5);
    const refTop = Array.from(ref0.keys())
      .sort((a, b) => ref0[b] - ref0[a])
      .slice(0, 5);
    assert.equal(
      top[0].map((p) => p.classIndex),
      refTop,
    );
    assert.ok(
      top[0][0].probability < 0.9 && top[0][4].probability > 1e-4,
      `unsaturated: ${top[0].map((p) => p.probability)}`,
    );
    assert.is(top.length, 2);
  } finally {
    model.dispose();
  }
});

test('full-width VGG16 without its top at 48×48, pooling none / avg / max, matches the reference', async () => {
  const base = vgg16Architecture({ includeTop: false, inputShape: [48, 48, 3] });
  const weights = chainWeights(base, [48, 48, 3], 200);
  const file = join(dir, 'vgg16_notop.h5');
  await writeLegacyWeightsH5(file, base, weights);
  const { expected } = await dogInput(48);
  for (const pooling of [null, 'avg', 'max'] as const) {
    // The file's layers are found by name: the notop layout is detected and given the pooling asked for.
    const { model } = await loadKerasModel(file, { ctx: await gpu(), pooling, inputShape: [48, 48, 3] });
    try {
      const spec = vgg16Architecture({ includeTop: false, pooling, inputShape: [48, 48, 3] });
      const y = await model.predict(Float32Array.from(expected));
      assert.is(y.length, 512, `pooling ${pooling}`);
      assertClose(y, referenceVgg(expected, [48, 48, 3], spec, weights), 1e-4, `pooling ${pooling}`, 'normalized');
    } finally {
      model.dispose();
    }
  }
});

test('full-size VGG16 (fc1 411 MB > 128 MiB binding limit): classifier matches, peak memory in bound', async () => {
  const ctx = await gpu();
  const spec = vgg16Architecture();
  const weights = chainWeights(spec, [224, 224, 3], 300);
  const file = join(dir, 'vgg16_full.h5');
  await writeLegacyWeightsH5(file, spec, weights);
  const { model } = await loadKerasModel(file, { ctx, keep: ['block5_pool'] });
  try {
    const { rgb } = await dogInput(224);
    const r = await model.run(preprocessInput(rgb), { intermediates: ['block5_pool'] });
    const pool5 = r.intermediates.get('block5_pool')!;
    assert.equal(pool5.shape, [1, 7, 7, 512]);
    const topOnly: KerasModelSpec = {
      ...spec,
      layers: spec.layers.filter((l) => ['Dense', 'Flatten'].includes(l.className)),
    };
    const ref = referenceVgg(Float64Array.from(pool5.data), [7, 7, 512], topOnly, weights);
    assertClose(r.outputs[0], ref, 1e-5, 'probabilities from block5_pool');

    // The CLI on the same file: images batched, the weights-only file recognised as VGG16 with its top.
    const cli = spawnSync(
      process.execPath,
      ['dist/cli.js', 'classify', '--model', file, 'assets/images/dog.jpg', 'test/fixtures/keras/moonflower_1.png'],
      { encoding: 'utf8' },
    );
    assert.is(cli.status, 0, cli.stderr);
    const dogRows = cli.stdout.split('assets/images/dog.jpg:')[1].split('moonflower_1.png:')[0];
    const refTop = decodePredictions(Float32Array.from(ref), 5)[0];
    refTop.forEach((p, i) => {
      const row = new RegExp(`${i + 1}\\s+${p.wnid}\\s+${p.label}\\s+([\\d.]+)`).exec(dogRows);
      assert.ok(
        row && Math.abs(Number(row[1]) - p.probability) < 2e-6,
        `expected ${p.wnid} ${p.label} ${p.probability} at rank ${i + 1} in\n${dogRows}`,
      );
    });

    const mem = model.memory(1);
    // The bound counts the model's own weights (138,357,544 float32 parameters) and its two largest
    // activations (224×224×64 floats each), not however the library stores them.
    const params = [...weights.values()].flat().reduce((sum, a) => sum + a.data.length, 0);
    assert.is(params, 138_357_544);
    const bound = 1.15 * (4 * params + 2 * 4 * 224 * 224 * 64);
    assert.ok(mem.peakBytes <= bound, `peak ${mem.peakBytes} > bound ${bound}`);
  } finally {
    model.dispose();
  }
});

test.run();
