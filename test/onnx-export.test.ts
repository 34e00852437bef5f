// The benchmark's ONNX export (bench/onnx-export.ts), checked by running the exported file through
// ONNX Runtime's own CPU kernels (its wasm build) and comparing with our Model on the same graph.
// This guards the ORT-Web peer rows (a wrong export would time different work), and it doubles as a
// check of our kernels against an independent implementation.
import onnxProto from 'onnx-proto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { toOnnx } from '../bench/onnx-export.js';
import { weighted, type WeightedGraph, type WeightedNode } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { assertClose, randomArray, withGpu } from './harness.js';

const { onnx } = onnxProto;
const test = suite('onnx export');
const gpu = withGpu(test);

async function ortCpu() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return ort;
}

/** Every op kind the benchmark's models use, at odd sizes, with channels where NCHW and NHWC differ. */
function everyOp(): WeightedGraph {
  let seed = 1;
  const r = (n: number, lo = -1, hi = 1) => randomArray(n, seed++, lo, hi);
  const conv = (
    name: string,
    input: string,
    kernelShape: [number, number, number, number],
    attrs: Record<string, unknown>,
  ): WeightedNode => ({
    name,
    op: { kind: 'conv2d', attrs, kernelShape },
    inputs: [input],
    weights: { kernel: r(kernelShape[0] * kernelShape[1] * kernelShape[2] * kernelShape[3]), bias: r(kernelShape[3]) },
  });
  const nodes: WeightedNode[] = [
    { name: 'x', op: { kind: 'input', shape: [9, 11, 6] }, inputs: [] },
    conv('same', 'x', [3, 3, 6, 8], { padding: 'same', activation: { kind: 'relu' } }),
    conv('strided', 'x', [3, 3, 6, 4], {
      padding: [1, 0, 1, 2],
      strides: [2, 2],
      activation: { kind: 'leaky', alpha: 0.1 },
    }),
    conv('depthwise', 'x', [3, 3, 1, 6], {
      padding: 'same',
      groups: 6,
      dilations: [2, 2],
      activation: { kind: 'sigmoid' },
    }),
    conv('wide', 'x', [1, 5, 6, 3], { padding: 'valid', strides: [1, 2] }),
    { name: 'cat', op: { kind: 'concat', axis: -1 }, inputs: ['same', 'depthwise'] },
    {
      name: 'maxpool',
      op: { kind: 'pool2d', attrs: { kind: 'max', size: [2, 2], strides: [2, 2], padding: [0, 1, 0, 1] } },
      inputs: ['cat'],
    },
    {
      name: 'avgpool',
      op: { kind: 'pool2d', attrs: { kind: 'avg', size: [3, 3], strides: [1, 1], padding: 'same' } },
      inputs: ['cat'],
    },
    { name: 'up', op: { kind: 'upsample', factors: [2, 2] }, inputs: ['strided'] },
    { name: 'upslice', op: { kind: 'slice', axis: -1, begin: 1, size: 3 }, inputs: ['up'] },
    { name: 'padded', op: { kind: 'pad', pads: [0, 0, 1, 0] }, inputs: ['maxpool'] },
    { name: 'a', op: { kind: 'slice', axis: -1, begin: 2, size: 5 }, inputs: ['avgpool'] },
    { name: 'b', op: { kind: 'slice', axis: -1, begin: 9, size: 5 }, inputs: ['avgpool'] },
    { name: 'sum', op: { kind: 'add', activation: { kind: 'relu6' } }, inputs: ['a', 'b'] },
    { name: 'gap', op: { kind: 'global-pool', pool: 'avg', keepDims: false }, inputs: ['sum'] },
    {
      name: 'head',
      op: { kind: 'dense', units: 3, activation: { kind: 'tanh' } },
      inputs: ['gap'],
      weights: { kernel: r(5 * 3), bias: r(3) },
    },
    { name: 'flat', op: { kind: 'reshape', shape: [-1] }, inputs: ['padded'] },
    {
      name: 'fc',
      op: { kind: 'dense', units: 7 },
      inputs: ['flat'],
      weights: { kernel: r(5 * 7 * 14 * 7), bias: r(7) },
    },
    { name: 'probs', op: { kind: 'softmax' }, inputs: ['fc'] },
    { name: 'swap', op: { kind: 'transpose', perm: [0, 2, 1, 3] }, inputs: ['wide'] },
  ];
  return weighted({ name: 'every-op', nodes, inputs: ['x'], outputs: ['probs', 'head', 'upslice', 'swap', 'cat'] });
}

test('every op: ONNX Runtime (CPU) on the exported file agrees with Model, batch 2', async () => {
  const graph = everyOp();
  const ort = await ortCpu();
  const session = await ort.InferenceSession.create(toOnnx(graph));
  const x = randomArray(2 * 9 * 11 * 6, 99);
  const theirs = await session.run({ x: new ort.Tensor('float32', x, [2, 9, 11, 6]) });
  const model = await Model.create(await gpu(), graph);
  const ours = await model.run(x, { batch: 2 });
  graph.graph.outputs.forEach((name, i) => {
    const t = theirs[name];
    assert.equal([...t.dims].slice(1), model.outputShapes[i], `${name}: shape`);
    assertClose(ours.outputs[i], t.data as Float32Array, 2e-5, name);
  });
  model.dispose();
  await session.release();
});

test('the zoo rows: rescaling, a standalone batch norm and a channel-scaled conv (SE) export and agree', async () => {
  const r = (n: number, seed: number, lo = -1, hi = 1) => randomArray(n, seed, lo, hi);
  const c = 6;
  const graph = weighted({
    name: 'zoo-ops',
    inputs: ['x'],
    outputs: ['bn', 'proj'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [7, 5, c] }, inputs: [] },
      {
        name: 'rescale',
        op: { kind: 'scale', scaleLength: c, offsetLength: 1 },
        inputs: ['x'],
        weights: { scale: r(c, 1, 0.5, 2), offset: Float32Array.of(-0.25) },
      },
      {
        name: 'bn',
        op: { kind: 'batchnorm', axis: -1, epsilon: 1e-3, channels: c, activation: { kind: 'relu' } },
        inputs: ['rescale'],
        weights: { gamma: r(c, 2, 0.5, 1.5), beta: r(c, 3), mean: r(c, 4), variance: r(c, 5, 0.2, 2) },
      },
      { name: 'gap', op: { kind: 'global-pool', pool: 'avg', keepDims: true }, inputs: ['bn'] },
      {
        name: 'gate',
        op: { kind: 'conv2d', attrs: { padding: 'valid', activation: { kind: 'sigmoid' } }, kernelShape: [1, 1, c, c] },
        inputs: ['gap'],
        weights: { kernel: r(c * c, 6), bias: r(c, 7) },
      },
      {
        name: 'proj',
        op: { kind: 'conv2d', attrs: { padding: 'valid' }, kernelShape: [1, 1, c, 4], channelScale: true },
        inputs: ['bn', 'gate'],
        weights: { kernel: r(c * 4, 8), bias: r(4, 9) },
      },
    ],
  });
  const ort = await ortCpu();
  const session = await ort.InferenceSession.create(toOnnx(graph));
  const x = randomArray(2 * 7 * 5 * c, 10);
  const theirs = await session.run({ x: new ort.Tensor('float32', x, [2, 7, 5, c]) });
  const model = await Model.create(await gpu(), graph);
  const ours = await model.run(x, { batch: 2 });
  graph.graph.outputs.forEach((name, i) => assertClose(ours.outputs[i], theirs[name].data as Float32Array, 2e-5, name));
  model.dispose();
  await session.release();
});

test('dense weights past the binding limit are split by columns, as the peers need', async () => {
  // 64×600 weights (150 KiB) under a 64 KiB limit → three column blocks and a Concat.
  const k = 64,
    units = 600;
  const graph = weighted({
    name: 'big-dense',
    inputs: ['x'],
    outputs: ['y'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [k] }, inputs: [] },
      {
        name: 'y',
        op: { kind: 'dense', units },
        inputs: ['x'],
        weights: { kernel: randomArray(k * units, 5, -0.02, 0.02), bias: randomArray(units, 6) },
      },
    ],
  });
  const bytes = toOnnx(graph, { maxBindingBytes: 64 * 1024 });
  const ops = onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'MatMul').length, 3);
  assert.ok(ops.includes('Concat'));
  const ort = await ortCpu();
  const session = await ort.InferenceSession.create(bytes);
  const x = randomArray(k, 7);
  const out = (await session.run({ x: new ort.Tensor('float32', x, [1, k]) })).y.data as Float32Array;
  const { kernel: weights, bias } = graph.weights.get('y')!;
  const expected = new Float64Array(units);
  for (let j = 0; j < units; j++) expected[j] = bias[j];
  for (let i = 0; i < k; i++) for (let j = 0; j < units; j++) expected[j] += x[i] * weights[i * units + j];
  assertClose(out, expected, 1e-4, 'split dense');
  await session.release();
});

test.run();
