// Fine-tuning a conv block with the head: one SGD step (learning rate 1, so the update is the gradient)
// of a trunk (conv + ReLU, max pool, conv + ReLU, global pooling or flatten) and a head on the GPU,
// against central differences of the batch-mean loss of a float64 forward pass written here, for the
// trunk's kernels and biases and the head's; then a few epochs where the loss falls.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initHead, type HeadSpec } from '../src/train/head.js';
import { trainHead } from '../src/train/trainer.js';
import { trunkCodeLength, type Trunk } from '../src/train/trunk.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { refConv, refDense, refLoss, refMaxPool } from './train-reference.js';

const test = suite('train-finetune');
const gpu = withGpu(test);

const ROWS = 6,
  H = 6,
  W = 6,
  C = 2;

function trunkOf(pooling: Trunk['pooling']): Trunk {
  return {
    input: [H, W, C],
    pooling,
    layers: [
      { kind: 'conv', name: 'c1', kernel: [3, 3, C, 4], strides: [1, 1], padding: 'same', relu: true },
      { kind: 'maxpool', name: 'p1', size: [2, 2], strides: [2, 2], padding: 'valid' },
      { kind: 'conv', name: 'c2', kernel: [3, 3, 4, 3], strides: [1, 1], padding: 'same', relu: true },
    ],
    weights: [
      { kernel: randomArray(3 * 3 * C * 4, 1, -0.5, 0.5), bias: randomArray(4, 2, 0, 0.1) },
      { kernel: randomArray(3 * 3 * 4 * 3, 3, -0.5, 0.5), bias: randomArray(3, 4, 0, 0.1) },
    ],
  };
}

/** The batch-mean loss in float64 of the trunk (params p: k1, b1, k2, b2) and the head (its layers). */
function meanLoss(
  x: Float32Array,
  t: Float32Array,
  p: Float64Array[],
  head: Float64Array[],
  pooling: Trunk['pooling'],
  spec: HeadSpec,
) {
  const relu = (a: Float64Array) => a.map((v) => Math.max(v, 0));
  const addBias = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i % b.length]);
  let a: Float64Array = relu(
    addBias(
      refConv(Float64Array.from(x), p[0], { n: ROWS, h: H, w: W, c: C, kh: 3, kw: 3, oc: 4, s: 1, d: 1, same: true }),
      p[1],
    ),
  );
  a = refMaxPool(a, [ROWS, H, W, 4], 2, 2, false);
  a = relu(addBias(refConv(a, p[2], { n: ROWS, h: 3, w: 3, c: 4, kh: 3, kw: 3, oc: 3, s: 1, d: 1, same: true }), p[3]));
  if (pooling !== 'flatten') {
    const code = new Float64Array(ROWS * 3).fill(pooling === 'max' ? -Infinity : 0);
    for (let n = 0; n < ROWS; n++)
      for (let q = 0; q < 9; q++)
        for (let c = 0; c < 3; c++) {
          const v = a[(n * 9 + q) * 3 + c];
          code[n * 3 + c] = pooling === 'max' ? Math.max(code[n * 3 + c], v) : code[n * 3 + c] + v / 9;
        }
    a = code;
  }
  const dims = [spec.inputs, ...spec.hidden, spec.classes];
  for (let l = 0; l + 1 < dims.length; l++) {
    a = refDense(a, ROWS, { kernel: head[2 * l], bias: head[2 * l + 1], inputs: dims[l], units: dims[l + 1] });
    if (l + 2 < dims.length) a = relu(a);
  }
  return refLoss(a, t, ROWS, spec.classes, 'softmax').loss.reduce((s, v) => s + v, 0) / ROWS;
}

(['avg', 'max', 'flatten'] as const).forEach((pooling) => {
  test(`one SGD step with ${pooling} pooling: every gradient, trunk and head, by differences`, async () => {
    const ctx = await gpu();
    const trunk = trunkOf(pooling);
    const spec: HeadSpec = { inputs: trunkCodeLength(trunk), hidden: [5], dropout: 0, classes: 3, output: 'softmax' };
    const x = randomArray(ROWS * H * W * C, 7, 0, 1);
    const t = new Float32Array(ROWS * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const initial = initHead(spec, 5);
    const r = await trainHead(
      ctx,
      { features: x, targets: t, rows: ROWS },
      {
        spec,
        trunk,
        initial,
        epochs: 1,
        batchSize: ROWS,
        optimizer: { kind: 'sgd', learningRate: 1 },
        seed: 1,
        shuffle: false,
      },
    );
    const p0 = trunk.weights.flatMap((w) => [Float64Array.from(w.kernel), Float64Array.from(w.bias)]);
    const h0 = initial.flatMap((w) => [Float64Array.from(w.kernel), Float64Array.from(w.bias)]);
    const after = [...r.trunk!.flatMap((w) => [w.kernel, w.bias]), ...r.weights.flatMap((w) => [w.kernel, w.bias])];
    const all = [...p0, ...h0];
    all.forEach((values, which) => {
      const got = Float64Array.from(values, (v, i) => v - after[which][i]); // w − (w − 1·g) = g
      const numeric = Float64Array.from(values, (v, i) => {
        const h = 1e-5;
        values[i] = v + h;
        const up = meanLoss(x, t, all.slice(0, 4), all.slice(4), pooling, spec);
        values[i] = v - h;
        const down = meanLoss(x, t, all.slice(0, 4), all.slice(4), pooling, spec);
        values[i] = v;
        return (up - down) / (2 * h);
      });
      assertClose(got, numeric, 2e-4, `${pooling}: gradient of array ${which}`, 'normalized');
    });
  });
});

test('fine-tuning lowers the loss over a few epochs (Adam, batch 4)', async () => {
  const ctx = await gpu();
  const trunk = trunkOf('avg');
  const spec: HeadSpec = { inputs: 3, hidden: [8], dropout: 0, classes: 3, output: 'softmax' };
  const x = randomArray(ROWS * H * W * C, 9, 0, 1);
  const t = new Float32Array(ROWS * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
  const r = await trainHead(
    ctx,
    { features: x, targets: t, rows: ROWS },
    {
      spec,
      trunk,
      epochs: 40,
      batchSize: 4,
      optimizer: { kind: 'adam', learningRate: 0.01 },
      seed: 2,
    },
  );
  assert.ok(r.history[39].loss < r.history[0].loss * 0.7, `loss ${r.history[0].loss} → ${r.history[39].loss}`);
  assert.ok(
    r.trunk!.every((w, i) => w.kernel.some((v, j) => v !== trunk.weights[i].kernel[j])),
    'the trunk moved',
  );
});

test.run();
