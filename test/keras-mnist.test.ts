// Real Keras files (tf.keras 2.4 full-model h5; Keras 3.1 .keras and its legacy h5) classify the two
// MNIST digits with the probabilities of an independent numpy forward pass (formats.md §5.2).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { imageToArray, decodeImage } from '../src/io/image.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { withGpu } from './harness.js';

const test = suite('keras mnist');
const gpu = withGpu(test);
const dir = 'test/fixtures/keras';

async function digit(file: string): Promise<Float32Array> {
  const x = imageToArray(await decodeImage(`${dir}/${file}`), 1);
  return x.map((v) => v / 255);
}

test('the digits convert to grayscale as Pillow does (input sums from formats.md)', async () => {
  const one = await digit('moonflower_1.png');
  const eight = await digit('moonflower_8.png');
  assert.is(one.length, 784);
  assert.ok(Math.abs(one.reduce((a, b) => a + b, 0) - 56.7451) < 1e-3, 'sum of 1.png');
  assert.ok(Math.abs(eight.reduce((a, b) => a + b, 0) - 102.7647) < 1e-3, 'sum of 8.png');
});

// [file, format, P(1 | 1.png), runner-up class and P for 1.png, P(8 | 8.png)]
const CASES: [string, string, number, number, number, number][] = [
  ['moonflower_mnist_cnn_keras3.1.1.keras', 'keras-zip', 0.998551, 4, 0.001409, 0.999988],
  ['moonflower_mnist_cnn_keras3.1.1_legacy.h5', 'h5-full-model', 0.997739, 4, 0.002037, 0.999983],
  ['naonaorange_cnn_mnist_keras2.4.0.h5', 'h5-full-model', 0.991543, 6, 0.007921, 0.99855],
];

for (const [file, format, p1, runnerUp, pRunnerUp, p8] of CASES) {
  test(`${file} classifies 1.png and 8.png as a batch, to 1e-4`, async () => {
    const { model, info } = await loadKerasModel(`${dir}/${file}`, { ctx: await gpu() });
    try {
      assert.is(info.format, format);
      const batch = new Float32Array(2 * 784);
      batch.set(await digit('moonflower_1.png'), 0);
      batch.set(await digit('moonflower_8.png'), 784);
      const probs = await model.predict(batch);
      assert.is(probs.length, 20);
      const near = (got: number, want: number, what: string) =>
        assert.ok(Math.abs(got - want) < 1e-4, `${what}: ${got} vs ${want}`);
      near(probs[1], p1, 'P(1 | 1.png)');
      near(probs[runnerUp], pRunnerUp, `P(${runnerUp} | 1.png)`);
      near(probs[10 + 8], p8, 'P(8 | 8.png)');
    } finally {
      model.dispose();
    }
  });
}

test.run();
