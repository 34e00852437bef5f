// Overlapping calls: every call on a model gets exactly the answer it gets alone, whatever runs beside it
// (other calls on the same model, at other batch sizes, or another model on the same context).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Detector, type DetectResult } from '../src/models/yolo/detector.js';
import { Model } from '../src/graph/model.js';
import { weighted, type WeightedGraph, type WeightedNode } from '../src/graph/ir.js';
import { decodeImage, type RgbaImage } from '../src/io/image.js';
import { randomArray, withGpu } from './harness.js';

const test = suite('overlapping calls');
const gpu = withGpu(test);
const IMAGES = ['dog', 'person', 'horses', 'eagle', 'giraffe', 'kite'].map((n) => `assets/images/${n}.jpg`);

const summary = (r: DetectResult) => JSON.stringify(r.detections.map((d) => [d.className, d.score, d.box]));

/** A small conv net with a residual branch and two outputs, enough kernels to interleave. */
function smallGraph(seed: number): WeightedGraph {
  const conv = (name: string, input: string, c: number, oc: number, k: number, s: number): WeightedNode => ({
    name,
    inputs: [input],
    op: {
      kind: 'conv2d',
      kernelShape: [k, k, c, oc],
      attrs: { strides: [s, s], padding: 'same', activation: { kind: 'relu' } },
    },
    weights: { kernel: randomArray(k * k * c * oc, seed++, -0.3, 0.3), bias: randomArray(oc, seed++) },
  });
  return weighted({
    name: `small-${seed}`,
    inputs: ['x'],
    outputs: ['head', 'pool'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [24, 24, 3] }, inputs: [] },
      conv('c1', 'x', 3, 16, 3, 1),
      conv('c2', 'c1', 16, 16, 3, 1),
      { name: 'sum', op: { kind: 'add' }, inputs: ['c1', 'c2'] },
      conv('c3', 'sum', 16, 32, 3, 2),
      { name: 'pool', op: { kind: 'global-pool', pool: 'avg', keepDims: false }, inputs: ['c3'] },
      {
        name: 'head',
        op: { kind: 'dense', units: 10 },
        inputs: ['pool'],
        weights: { kernel: randomArray(32 * 10, seed++), bias: randomArray(10, seed++) },
      },
    ],
  });
}

test('20 overlapping detect() calls on one Detector give exactly the answers of 20 calls one at a time', async () => {
  const ctx = await gpu();
  // At 160×160 (a quarter of the work of 320): the point is who gets which answer, not accuracy.
  const det = await Detector.load({ ctx, inputSize: [160, 160] });
  try {
    const images: RgbaImage[] = await Promise.all(IMAGES.map((f) => decodeImage(f)));
    // Six distinct calls (image, threshold), each made alone once, then 20 of them overlapping.
    const distinct = images.map((image, i) => ({ image, thresh: i % 2 ? 0.5 : 0.3 }));
    const alone: string[] = [];
    for (const c of distinct) alone.push(summary(await det.detect(c.image, { thresh: c.thresh })));
    assert.ok(new Set(alone).size >= 4, 'the images give different answers, so a mix-up would show');
    const together = await Promise.all(
      Array.from({ length: 20 }, (_, i) => det.detect(distinct[i % 6].image, { thresh: distinct[i % 6].thresh })),
    );
    together.forEach((r, i) => assert.is(summary(r), alone[i % 6], `call ${i} (${IMAGES[i % 6]})`));
  } finally {
    det.dispose();
  }
});

test('overlapping run() calls at several batch sizes and on two models sharing a context are each exact', async () => {
  const ctx = await gpu();
  const [a, b] = await Promise.all([Model.create(ctx, smallGraph(1)), Model.create(ctx, smallGraph(100))]);
  try {
    const per = 24 * 24 * 3;
    const calls = Array.from({ length: 20 }, (_, i) => ({
      model: i % 3 === 2 ? b : a,
      batch: 1 + (i % 4),
      seed: 1000 + i,
    }));
    const inputs = calls.map((c) => randomArray(per * c.batch, c.seed, 0, 1));
    const alone: Float32Array[][] = [];
    for (const [i, c] of calls.entries()) alone.push((await c.model.run(inputs[i])).outputs);
    const together = await Promise.all(calls.map((c, i) => c.model.run(inputs[i])));
    together.forEach((r, i) => {
      r.outputs.forEach((out, k) =>
        assert.ok(
          out.every((v, j) => Object.is(v, alone[i][k][j])),
          `call ${i} output ${k} differs`,
        ),
      );
    });
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('a model disposed while runs are in flight fails them with a clear error and holds no memory after', async () => {
  const ctx = await gpu();
  const model = await Model.create(ctx, smallGraph(7));
  const x = randomArray(24 * 24 * 3, 3, 0, 1);
  await model.run(x);
  assert.ok(model.memory().liveBytes > 0);
  const runs = Array.from({ length: 4 }, () =>
    model.run(x).then(
      () => 'done',
      (e: Error) => e.message,
    ),
  );
  model.dispose();
  for (const outcome of await Promise.all(runs)) {
    assert.ok(outcome === 'done' || /disposed/.test(outcome), `outcome: ${outcome}`);
  }
  assert.is(model.memory().liveBytes, 0);
});

test.run();
