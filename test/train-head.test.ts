// Whole training runs of small heads on the GPU against the same runs in float64 on the CPU
// (test/train-reference.ts): per-epoch loss and accuracy and the final weights, for each optimiser,
// with dropout, a ragged last batch, softmax and sigmoid outputs; then validation, early stopping
// and the best epoch's weights, and reproducibility from the seed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initHead, type HeadSpec } from '../src/train/head.js';
import { dropoutSeed, epochOrder, shuffleGenerator, trainHead, type LabelledSet } from '../src/train/trainer.js';
import type { OptimizerConfig } from '../src/train/optimizer.js';
import { assertClose, randomArray, rng, withGpu } from './harness.js';
import { refTrain, type RefOptimizer } from './train-reference.js';

const test = suite('train-head');
const gpu = withGpu(test);

/** Rows of `inputs` features in `classes` clusters (one-hot targets): learnable, not trivially. */
function clusters(
  rows: number,
  inputs: number,
  classes: number,
  seed: number,
  multiLabel = false,
  centreSeed = seed + 1,
): LabelledSet {
  const next = rng(seed);
  const centres = randomArray(classes * inputs, centreSeed);
  const features = new Float32Array(rows * inputs),
    targets = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(next() * classes);
    for (let k = 0; k < inputs; k++) features[r * inputs + k] = centres[c * inputs + k] + 0.8 * (2 * next() - 1);
    if (multiLabel) for (let j = 0; j < classes; j++) targets[r * classes + j] = j === c || next() < 0.2 ? 1 : 0;
    else targets[r * classes + c] = 1;
  }
  return { features, targets, rows };
}

const toRef = (o: OptimizerConfig): RefOptimizer => ({
  kind: o.kind,
  lr: o.learningRate!,
  momentum: o.momentum,
  nesterov: o.nesterov,
});

async function compareRun(
  spec: HeadSpec,
  optimizer: OptimizerConfig,
  data: LabelledSet,
  batch: number,
  epochs: number,
  seed: number,
  tol: number,
) {
  const ctx = await gpu();
  const got = await trainHead(ctx, data, { spec, epochs, batchSize: batch, optimizer, seed });
  const shuffle = shuffleGenerator(seed);
  const orders = Array.from({ length: epochs }, () => epochOrder(data.rows, shuffle));
  const ref = refTrain({
    layers: initHead(spec, seed).map((l) => ({
      kernel: Float64Array.from(l.kernel),
      bias: Float64Array.from(l.bias),
      inputs: l.inputs,
      units: l.units,
    })),
    mode: spec.output,
    dropout: spec.dropout,
    optimizer: toRef(optimizer),
    features: data.features,
    targets: data.targets,
    rows: data.rows,
    batch,
    epochs,
    order: (e) => orders[e - 1],
    seedOf: (step, layer) => dropoutSeed(seed, step, layer),
  });
  assertClose(
    got.history.map((h) => h.loss),
    ref.history.map((h) => h.loss),
    tol,
    'loss per epoch',
    'normalized',
  );
  assertClose(
    got.history.map((h) => h.accuracy),
    ref.history.map((h) => h.accuracy),
    0.02 + 1e-9,
    'accuracy per epoch',
  );
  got.weights.forEach((w, i) => {
    assertClose(w.kernel, ref.layers[i].kernel, tol, `layer ${i} kernel`, 'normalized');
    assertClose(w.bias, ref.layers[i].bias, tol, `layer ${i} bias`, 'normalized');
  });
  return got;
}

const SPEC: HeadSpec = { inputs: 12, hidden: [16], dropout: 0.25, classes: 3, output: 'softmax' };
const RUNS: { name: string; optimizer: OptimizerConfig }[] = [
  { name: 'adam', optimizer: { kind: 'adam', learningRate: 0.01 } },
  { name: 'sgd momentum', optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 } },
  { name: 'sgd nesterov', optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true } },
  { name: 'rmsprop', optimizer: { kind: 'rmsprop', learningRate: 0.005 } },
];

RUNS.forEach(({ name, optimizer }, i) => {
  test(`${name}: 6 epochs of a 12→16→3 head, dropout 0.25, batch 16 over 70 rows, against float64`, async () => {
    const got = await compareRun(SPEC, optimizer, clusters(70, 12, 3, 5 + i), 16, 6, 11 + i, 2e-4);
    assert.ok(got.history[5].loss < got.history[0].loss, 'the loss falls');
  });
});

test('two hidden layers, no dropout, plain SGD: against float64', async () => {
  await compareRun(
    { inputs: 9, hidden: [10, 7], dropout: 0, classes: 4, output: 'softmax' },
    { kind: 'sgd', learningRate: 0.1 },
    clusters(50, 9, 4, 3),
    8,
    5,
    2,
    2e-4,
  );
});

test('sigmoid output (multi-label) with binary cross-entropy: against float64', async () => {
  await compareRun(
    { inputs: 8, hidden: [12], dropout: 0.5, classes: 3, output: 'sigmoid' },
    { kind: 'adam', learningRate: 0.01 },
    clusters(40, 8, 3, 9, true),
    10,
    5,
    4,
    2e-4,
  );
});

test('validation metrics, early stopping on validation loss and the best epoch restored', async () => {
  const ctx = await gpu();
  const data = clusters(120, 12, 3, 21),
    val = clusters(45, 12, 3, 77, false, 22); // another draw around the same centres
  const options = {
    spec: SPEC,
    epochs: 60,
    batchSize: 16,
    optimizer: { kind: 'adam', learningRate: 0.05 } as OptimizerConfig,
    seed: 3,
    validation: val,
    patience: 3,
  };
  const r = await trainHead(ctx, data, options);
  const losses = r.history.map((h) => h.valLoss!);
  const best = Math.min(...losses);
  assert.is(r.history[r.bestEpoch - 1].valLoss, best);
  if (r.stoppedEarly) assert.is(r.history.length, r.bestEpoch + 3, 'stopped 3 epochs after the best');
  // The kept weights are the best epoch's: re-running that many epochs with no validation gives them.
  const again = await trainHead(ctx, data, {
    ...options,
    validation: undefined,
    patience: undefined,
    epochs: r.bestEpoch,
  });
  r.weights.forEach((w, i) => assertClose(w.kernel, again.weights[i].kernel, 0, `layer ${i} kernel`));
  assert.ok(
    r.history[r.bestEpoch - 1].valAccuracy! > 0.8,
    `validation accuracy ${r.history[r.bestEpoch - 1].valAccuracy}`,
  );
});

test('the same seed gives the same run bit for bit; another seed another one', async () => {
  const ctx = await gpu();
  const data = clusters(64, 12, 3, 8);
  const options = { spec: SPEC, epochs: 3, batchSize: 10, optimizer: { kind: 'adam' } as OptimizerConfig, seed: 42 };
  const [a, b, c] = [
    await trainHead(ctx, data, options),
    await trainHead(ctx, data, options),
    await trainHead(ctx, data, { ...options, seed: 43 }),
  ];
  assert.equal(Array.from(a.weights[0].kernel), Array.from(b.weights[0].kernel));
  assert.equal(
    a.history.map((h) => h.loss),
    b.history.map((h) => h.loss),
  );
  assert.not.equal(Array.from(a.weights[0].kernel), Array.from(c.weights[0].kernel));
});

test('GPU memory comes back after training', async () => {
  const ctx = await gpu();
  const before = ctx.liveBytes;
  await trainHead(ctx, clusters(30, 12, 3, 1), {
    spec: SPEC,
    epochs: 2,
    batchSize: 8,
    optimizer: { kind: 'sgd' },
    seed: 1,
  });
  assert.is(ctx.liveBytes, before);
});

test.run();
