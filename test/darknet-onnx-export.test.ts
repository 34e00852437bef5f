// @node-only. The benchmark's ONNX export of the op kinds the Darknet zoo brought (mish and swish, broadcasting
// binary ops with weight and constant operands, both reorg modes), run by ONNX Runtime's own CPU kernels and
// compared with our Model: it guards the ORT-Web peer rows for yolov4 and friends.
import { suite } from 'uvu';
import { toOnnx } from '../bench/onnx-export.js';
import { weighted, type WeightedNode } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { assertClose, randomArray, withGpu } from './harness.js';

const test = suite('onnx export of darknet ops');
const gpu = withGpu(test);

test('mish, swish, broadcast mul/add, reorg and reorg3d: ONNX Runtime (CPU) agrees with Model, batch 2', async () => {
  let seed = 1;
  const r = (n: number) => randomArray(n, seed++, -0.5, 0.5);
  const conv = (name: string, input: string, c: number, oc: number, kind: 'mish' | 'swish'): WeightedNode => ({
    name,
    op: { kind: 'conv2d', kernelShape: [3, 3, c, oc], attrs: { padding: [1, 1, 1, 1], activation: { kind } } },
    inputs: [input],
    weights: { kernel: r(9 * c * oc), bias: r(oc) },
  });
  const nodes: WeightedNode[] = [
    { name: 'x', op: { kind: 'input', shape: [6, 10, 3] }, inputs: [] },
    conv('mish', 'x', 3, 8, 'mish'),
    conv('swish', 'mish', 8, 8, 'swish'),
    {
      name: 'perchannel',
      op: { kind: 'binary', op: 'mul', operandShape: [8] },
      inputs: ['swish'],
      weights: { operand: r(8) },
    },
    { name: 'half', op: { kind: 'binary', op: 'mul', constant: { value: 0.5 } }, inputs: ['perchannel'] },
    { name: 'gap', op: { kind: 'global-pool', pool: 'avg', keepDims: true }, inputs: ['mish'] },
    {
      name: 'scaled',
      op: { kind: 'binary', op: 'mul', activation: { kind: 'leaky', alpha: 0.1 } },
      inputs: ['half', 'gap'],
    },
    { name: 'sum', op: { kind: 'binary', op: 'add' }, inputs: ['scaled', 'mish'] },
    { name: 'reorg', op: { kind: 'reorg', stride: 2, mode: 'darknet' }, inputs: ['sum'] },
    { name: 'reorg3d', op: { kind: 'reorg', stride: 2, mode: 'space-to-depth' }, inputs: ['sum'] },
  ];
  const graph = weighted({ name: 'darknet-ops', nodes, inputs: ['x'], outputs: ['reorg', 'reorg3d', 'sum'] });
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(toOnnx(graph));
  const x = randomArray(2 * 6 * 10 * 3, 9);
  const theirs = await session.run({ x: new ort.Tensor('float32', x, [2, 6, 10, 3]) });
  const model = await Model.create(await gpu(), graph);
  try {
    const ours = await model.run(x, { batch: 2 });
    graph.graph.outputs.forEach((name, i) =>
      assertClose(ours.outputs[i], theirs[name].data as Float32Array, 2e-5, name, 'normalized'),
    );
  } finally {
    model.dispose();
    await session.release();
  }
});

test.run();
