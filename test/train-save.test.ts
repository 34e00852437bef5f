// Saving for Keras: the heads and whole models webgpu-cnn saved (test/fixtures/transfer/saved/, from
// `webgpu-cnn train-head`) load in our loader and predict what real Keras predicted with the very same
// files (scripts/keras-fixtures/train_check.py: keras.models.load_model), to 1e-5; and a freshly
// trained head saved as .keras and .h5 loads back predicting what a float64 forward pass of its
// in-memory weights gives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseNpy } from '../src/io/npy.js';
import { saveKerasModel } from '../src/io/keras-save.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { computeCodes, loadCodeBase } from '../src/train/codes.js';
import { headModel } from '../src/train/export.js';
import type { HeadSpec } from '../src/train/head.js';
import { trainHead } from '../src/train/trainer.js';
import { fixtureBytes, fixtureJson } from './fixtures.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { refDense } from './train-reference.js';

const test = suite('train-save');
const gpu = withGpu(test);
const DIR = 'test/fixtures/transfer';
const npy = async (name: string) => parseNpy(await fixtureBytes(`${DIR}/${name}`), name);

['head.keras', 'head.h5'].forEach((file) => {
  test(`${file}: our loader predicts what real Keras predicted from the same file`, async () => {
    const ctx = await gpu();
    const codes = await npy('codes_val.npy');
    const keras = await npy(`saved/keras_${file.replace('.', '_')}.npy`);
    const { model, info } = await loadKerasModel(await fixtureBytes(`${DIR}/saved/${file}`), { ctx, name: file });
    try {
      assert.is(info.format, file.endsWith('.keras') ? 'keras-zip' : 'h5-full-model');
      assertClose(await model.predict(codes.data, codes.shape[0]), keras.data, 1e-5, file);
    } finally {
      model.dispose();
    }
  });
});

['full.keras', 'full.h5'].forEach((file) => {
  test(`${file} (base + pooling + head): on the committed images, what real Keras predicted`, async () => {
    const ctx = await gpu();
    const check = await fixtureJson<{ images: string[] }>(`${DIR}/saved/keras_check.json`);
    const keras = await npy(`saved/keras_${file.replace('.', '_')}.npy`);
    // The whole model as a code base whose code is its output: the same image preparation as `codes`.
    const base = await loadCodeBase(ctx, await fixtureBytes(`${DIR}/saved/${file}`));
    try {
      const images = await Promise.all(check.images.map((f) => fixtureBytes(`${DIR}/${f}`)));
      assertClose(await computeCodes(base, images, { preprocess: 'caffe' }), keras.data, 1e-5, file);
    } finally {
      base.dispose();
    }
  });
});

(['keras', 'h5'] as const).forEach((format) => {
  test(`a trained head saved as .${format} loads back and predicts as its in-memory weights do (float64)`, async () => {
    const ctx = await gpu();
    const spec: HeadSpec = { inputs: 10, hidden: [12, 6], dropout: 0.3, classes: 3, output: 'softmax' };
    const rows = 30;
    const features = randomArray(rows * 10, 5);
    const targets = new Float32Array(rows * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const { weights } = await trainHead(
      ctx,
      { features, targets, rows },
      { spec, epochs: 3, batchSize: 8, optimizer: { kind: 'adam' }, seed: 9 },
    );
    const bytes = await saveKerasModel(headModel(spec, weights), format);
    const { model } = await loadKerasModel(bytes, { ctx, name: `head.${format}` });
    try {
      let a: Float64Array = Float64Array.from(features);
      weights.forEach((w, i) => {
        const y = refDense(a, rows, {
          kernel: Float64Array.from(w.kernel),
          bias: Float64Array.from(w.bias),
          inputs: w.inputs,
          units: w.units,
        });
        a = i < weights.length - 1 ? y.map((v) => Math.max(v, 0)) : y;
      });
      const probs = new Float64Array(rows * 3);
      for (let r = 0; r < rows; r++) {
        const z = a.subarray(r * 3, r * 3 + 3),
          max = Math.max(...z),
          sum = z.reduce((s, v) => s + Math.exp(v - max), 0);
        for (let j = 0; j < 3; j++) probs[r * 3 + j] = Math.exp(z[j] - max) / sum;
      }
      assertClose(await model.predict(features, rows), probs, 1e-5, `.${format} round trip`);
    } finally {
      model.dispose();
    }
  });
});

test.run();
