// The graph executor: passes, the liveness planner, and whole small graphs against float64 references.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GpuContext } from '../src/gpu/context.js';
import { TensorTooLargeError } from '../src/gpu/errors.js';
import { weighted, type Node, type Op, type WeightedGraph, type WeightedNode } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import * as ops from '../src/eager.js';
import { Tensor } from '../src/tensor.js';
import { optimize } from '../src/graph/passes.js';
import { planGraph } from '../src/graph/plan.js';
import { WINOGRAD_SCRATCH_BYTES, winogradTileFor } from '../src/ops/winograd.js';
import { assertClose, randomArray, rejects, SWIFTSHADER_LIKE_CAPS, withGpu } from './harness.js';
import { refBatchNorm, refConcat, refConv2d, refGemm, refPad, refPool2d, refSoftmax } from './reference.js';

const caps = { maxWorkgroupsPerDimension: 65535, maxInvocationsPerWorkgroup: 256, maxStorageBindingBytes: 128 << 20 };
const relu = (v: number) => Math.max(v, 0);

/**
 * input 8×8×3 → conv 3×3 same (8) → BN → relu ─┬─ conv 1×1 (8) ─ add ─ concat ─ maxpool 2 → flatten → dense 5 → softmax
 *                                                └──────────────────┘      │
 *                                                conv 3×3 (4) ─────────────┘
 */
function testGraph(): { graph: WeightedGraph; w: Record<string, Float32Array> } {
  const w = {
    c1: randomArray(3 * 3 * 3 * 8, 1),
    b1: randomArray(8, 2),
    gamma: randomArray(8, 3, 0.5, 1.5),
    beta: randomArray(8, 4),
    mean: randomArray(8, 5),
    variance: randomArray(8, 6, 0.2, 2),
    c2: randomArray(8 * 8, 7),
    b2: randomArray(8, 8),
    c3: randomArray(3 * 3 * 8 * 4, 9),
    d: randomArray(4 * 4 * 12 * 5, 10),
    db: randomArray(5, 11),
  };
  const nodes: WeightedNode[] = [
    { name: 'in', op: { kind: 'input', shape: [8, 8, 3] }, inputs: [] },
    {
      name: 'conv1',
      op: { kind: 'conv2d', attrs: { padding: 'same' }, kernelShape: [3, 3, 3, 8] },
      inputs: ['in'],
      weights: { kernel: w.c1, bias: w.b1 },
    },
    {
      name: 'bn1',
      op: { kind: 'batchnorm', axis: -1, epsilon: 1e-3, channels: 8 },
      inputs: ['conv1'],
      weights: { gamma: w.gamma, beta: w.beta, mean: w.mean, variance: w.variance },
    },
    { name: 'relu1', op: { kind: 'activation', activation: { kind: 'relu' } }, inputs: ['bn1'] },
    {
      name: 'conv2',
      op: { kind: 'conv2d', attrs: {}, kernelShape: [1, 1, 8, 8] },
      inputs: ['relu1'],
      weights: { kernel: w.c2, bias: w.b2 },
    },
    { name: 'add', op: { kind: 'add' }, inputs: ['conv2', 'relu1'] },
    {
      name: 'conv3',
      op: { kind: 'conv2d', attrs: { padding: 'same' }, kernelShape: [3, 3, 8, 4] },
      inputs: ['relu1'],
      weights: { kernel: w.c3 },
    },
    { name: 'cat', op: { kind: 'concat', axis: -1 }, inputs: ['add', 'conv3'] },
    { name: 'pool', op: { kind: 'pool2d', attrs: { kind: 'max', size: [2, 2] } }, inputs: ['cat'] },
    { name: 'drop', op: { kind: 'identity' }, inputs: ['pool'] },
    { name: 'flat', op: { kind: 'reshape', shape: [-1] }, inputs: ['drop'] },
    { name: 'dense', op: { kind: 'dense', units: 5 }, inputs: ['flat'], weights: { kernel: w.d, bias: w.db } },
    { name: 'probs', op: { kind: 'softmax' }, inputs: ['dense'] },
  ];
  return { graph: weighted({ name: 'test', nodes, inputs: ['in'], outputs: ['probs'] }), w };
}

function reference(x: Float32Array, n: number, w: Record<string, Float32Array>) {
  const conv1 = refConv2d({ x, xShape: [n, 8, 8, 3], w: w.c1, wShape: [3, 3, 3, 8], b: w.b1, padding: 'same' });
  const bn = refBatchNorm(conv1.y, conv1.shape, 3, w.gamma, w.beta, w.mean, w.variance, 1e-3).map(relu);
  const conv2 = refConv2d({ x: bn, xShape: conv1.shape, w: w.c2, wShape: [1, 1, 8, 8], b: w.b2 });
  const add = conv2.y.map((v, i) => v + bn[i]);
  const conv3 = refConv2d({ x: bn, xShape: conv1.shape, w: w.c3, wShape: [3, 3, 8, 4], padding: 'same' });
  const cat = refConcat(
    [
      { x: add, shape: conv1.shape },
      { x: conv3.y, shape: conv3.shape },
    ],
    3,
  );
  const pool = refPool2d(cat, [n, 8, 8, 12], 'max', [2, 2], [2, 2], 'valid');
  const dense = refGemm(pool.y, w.d, n, 192, 5, false, w.db);
  return { relu1: bn, probs: refSoftmax(dense, 5) };
}

const pure = suite('graph planning');

pure('passes fold the batch norm and the relu into conv1, and keep protects a layer', () => {
  const { graph } = testGraph();
  const opt = optimize(graph).graph;
  assert.equal(
    opt.nodes.map((n) => n.name),
    ['in', 'relu1', 'conv2', 'add', 'conv3', 'cat', 'pool', 'drop', 'flat', 'dense', 'probs'],
  );
  assert.equal(opt.nodes[1].fused, ['conv1', 'bn1', 'relu1']);
  const kept = optimize(graph, ['bn1']);
  assert.equal(kept.graph.nodes.find((n) => n.name === 'bn1')?.fused, ['conv1', 'bn1']);
  assert.ok(kept.graph.nodes.some((n) => n.name === 'relu1' && n.op.kind === 'activation'));
  // The folded conv's weights moved with it, under its new name; the batch norm's are gone.
  assert.equal([...kept.weights.keys()].sort(), ['bn1', 'conv2', 'conv3', 'dense']);
  assert.is(kept.weights.get('bn1')!.kernel.length, 3 * 3 * 3 * 8);
});

pure('liveness reuses slots: a 20-layer chain needs two, aliases share their root', () => {
  const nodes: Node[] = [{ name: 'in', op: { kind: 'input', shape: [16, 16, 4] }, inputs: [] }];
  for (let i = 0; i < 20; i++)
    nodes.push({
      name: `a${i}`,
      op: { kind: 'activation', activation: { kind: 'relu' } },
      inputs: [nodes[nodes.length - 1].name],
    });
  nodes.push({ name: 'flat', op: { kind: 'reshape', shape: [-1] }, inputs: ['a19'] });
  const plan = planGraph({ name: 'chain', nodes, inputs: ['in'], outputs: ['flat'] }, 2, caps);
  assert.equal(plan.slotBytes, [2 * 16 * 16 * 4 * 4, 2 * 16 * 16 * 4 * 4]);
  assert.equal(plan.values.get('flat'), plan.values.get('a19'));
  assert.equal(plan.shapes.get('flat'), [2, 1024]);
  const kept = planGraph({ name: 'chain', nodes, inputs: ['in'], outputs: ['flat'] }, 1, caps, new Set(['a3', 'a7']));
  assert.is(kept.slotBytes.length, 4);
});

pure('errors name the layer: bad shapes, unknown inputs, bad reshape', () => {
  const { graph } = testGraph().graph;
  const bad = structuredClone(graph);
  (bad.nodes[4].op as { kernelShape: number[] }).kernelShape = [1, 1, 9, 8];
  assert.throws(() => planGraph(bad, 1, caps), /layer 'conv2'.*9 input channels/);
  const reshape = structuredClone(graph);
  reshape.nodes[10].op = { kind: 'reshape', shape: [7, -1] };
  assert.throws(() => planGraph(reshape, 1, caps), /layer 'flat'.*cannot reshape/);
});

pure.run();

const gpu = suite('graph execution');
const getCtx = withGpu(gpu);

gpu('per-channel and constant multiplies fold into the conv and dense before them (LayerScale, x * c)', async () => {
  const ctx = await getCtx();
  const n = 2;
  const w = {
    k: randomArray(6 * 8, 40),
    b: randomArray(8, 41),
    gamma: randomArray(8, 42, -2, 2),
    d: randomArray(8 * 5, 43),
    db: randomArray(5, 44),
  };
  const source = weighted({
    name: 'scales',
    inputs: ['in'],
    outputs: ['out'],
    nodes: [
      { name: 'in', op: { kind: 'input', shape: [4, 4, 6] }, inputs: [] },
      {
        name: 'pw',
        op: { kind: 'conv2d', kernelShape: [1, 1, 6, 8], attrs: {} },
        inputs: ['in'],
        weights: { kernel: w.k, bias: w.b },
      },
      {
        name: 'layer_scale',
        op: { kind: 'binary', op: 'mul', operandShape: [8], activation: { kind: 'relu' } },
        inputs: ['pw'],
        weights: { operand: w.gamma },
      },
      { name: 'fc', op: { kind: 'dense', units: 5 }, inputs: ['layer_scale'], weights: { kernel: w.d, bias: w.db } },
      { name: 'out', op: { kind: 'binary', op: 'mul', constant: { value: 1 / 6 } }, inputs: ['fc'] },
    ],
  });
  const folded = optimize(source).graph;
  assert.equal(
    folded.nodes.map((node) => [node.name, node.op.kind]),
    [
      ['in', 'input'],
      ['layer_scale', 'conv2d'],
      ['out', 'dense'],
    ],
  );
  const x = randomArray(n * 4 * 4 * 6, 45);
  const conv = refConv2d({ x, xShape: [n, 4, 4, 6], w: w.k, wShape: [1, 1, 6, 8], b: w.b });
  const scaled = conv.y.map((v, i) => relu(v * w.gamma[i % 8]));
  const ref = refGemm(scaled, w.d, n * 16, 8, 5, false, w.db).map((v) => v / 6);
  const model = await Model.create(ctx, source);
  try {
    assertClose((await model.run(x)).outputs[0], ref, 1e-5, 'folded multiplies', 'normalized');
  } finally {
    model.dispose();
  }
});

gpu('a residual add folds into the dense before it (ConvNeXt: Dense on image tensors, then + input)', async () => {
  const ctx = await getCtx();
  const [k, b] = [randomArray(8 * 8, 50), randomArray(8, 51)];
  const source = weighted({
    name: 'dense residual',
    inputs: ['in'],
    outputs: ['sum'],
    nodes: [
      { name: 'in', op: { kind: 'input', shape: [4, 4, 8] }, inputs: [] },
      { name: 'pw', op: { kind: 'dense', units: 8 }, inputs: ['in'], weights: { kernel: k, bias: b } },
      { name: 'sum', op: { kind: 'add', activation: { kind: 'relu' } }, inputs: ['in', 'pw'] },
    ],
  });
  const model = await Model.create(ctx, source);
  try {
    const fused = model.graph.nodes.find((n) => n.name === 'sum')!;
    // Only the subgroup GEMM has the residual epilogue (not where subgroups are narrower: SwiftShader's).
    const onSubgroups = (ctx.caps.subgroupMinSize ?? 0) >= 8;
    assert.equal(
      [fused.op.kind, (fused.op as { residual?: string }).residual, fused.fused],
      onSubgroups ? ['dense', 'before', ['pw', 'sum']] : ['add', undefined, undefined],
    );
    for (const n of [1, 3]) {
      const x = randomArray(n * 4 * 4 * 8, 52 + n);
      const ref = refGemm(x, k, n * 16, 8, 8, false, b).map((v, i) => relu(v + x[i]));
      assertClose((await model.run(x)).outputs[0], ref, 1e-5, `dense + residual, batch ${n}`, 'normalized');
    }
  } finally {
    model.dispose();
  }
});

gpu('a branching graph matches the float64 reference at batch 1 and 3, fused and unfused', async () => {
  const ctx = await getCtx();
  const { graph, w } = testGraph();
  for (const noOptimize of [false, true]) {
    const model = await Model.create(ctx, graph, { noOptimize, keep: ['relu1'] });
    try {
      for (const n of [1, 3]) {
        const x = randomArray(n * 8 * 8 * 3, 20 + n);
        const ref = reference(x, n, w);
        const r = await model.run(x, { intermediates: ['relu1'] });
        assert.equal(r.shapes[0], [n, 5]);
        assertClose(r.outputs[0], ref.probs, 1e-5, `probs batch ${n} noOptimize=${noOptimize}`);
        assertClose(r.intermediates.get('relu1')!.data, ref.relu1, 1e-4, `relu1 batch ${n}`, 'normalized');
      }
    } finally {
      model.dispose();
    }
  }
});

gpu('per-layer timings, memory report, and errors for unkept intermediates and wrong input sizes', async () => {
  const ctx = await getCtx();
  const { graph } = testGraph();
  const model = await Model.create(ctx, graph);
  try {
    const r = await model.run(randomArray(8 * 8 * 3, 1), { profile: true });
    if (ctx.hasTimestamps) {
      // With subgroups, the add folds into the 1×1 conv2 before it (its GEMM has a residual epilogue).
      const conv2 = (ctx.caps.subgroupMinSize ?? 0) >= 8 ? [] : ['conv2'];
      assert.equal(
        r.timings!.map((t) => t.name),
        ['relu1', ...conv2, 'add', 'conv3', 'cat', 'pool', 'dense', 'probs'],
      );
      assert.ok(r.timings!.every((t) => t.ms >= 0));
    }
    const mem = model.memory(1);
    assert.is(mem.weightBytes, 4 * (3 * 3 * 3 * 8 + 8 + 8 * 8 + 8 + 3 * 3 * 8 * 4 + 4 + 192 * 5 + 5));
    assert.ok(
      mem.activationBytes < 4 * 8 * 8 * (8 + 8 + 4 + 12),
      `arena ${mem.activationBytes} bytes should reuse slots`,
    );
    await rejects(() => model.run(randomArray(8 * 8 * 3, 1), { intermediates: ['conv1'] }), /not kept/);
    await rejects(() => model.run(randomArray(100, 1)), /not a whole batch/);
  } finally {
    model.dispose();
  }
});

gpu(
  'tensors in and out: a GPU tensor as input, outputs kept on the GPU for eager ops, same answers as arrays',
  async () => {
    const ctx = await getCtx();
    const { graph, w } = testGraph();
    const model = await Model.create(ctx, graph);
    const x = randomArray(2 * 8 * 8 * 3, 31);
    const input = Tensor.fromArray(ctx, x, [2, 8, 8, 3]);
    try {
      const ref = reference(x, 2, w);
      const viaArrays = await model.run(x);
      const viaTensor = await model.run(input, { output: 'tensors' });
      assert.equal(viaTensor.outputs, []);
      assert.equal(
        viaTensor.tensors!.map((t) => t.shape),
        [[2, 5]],
      );
      const probs = viaTensor.tensors![0];
      assertClose(await probs.read(), ref.probs, 1e-5, 'tensor output');
      assertClose(viaArrays.outputs[0], ref.probs, 1e-5, 'array output');
      // An eager op takes the output tensor straight away (queue order, no read back in between).
      const scaled = await ops.activation(probs, { kind: 'relu' });
      assertClose(await scaled.read(), ref.probs, 1e-5, 'eager op on the output tensor');
      scaled.dispose();
      probs.dispose();
      const wrong = Tensor.fromArray(ctx, randomArray(10, 1), [10]);
      await rejects(() => model.run(wrong), /not a whole batch/);
      wrong.dispose();
    } finally {
      input.dispose();
      model.dispose();
    }
  },
);

const WINOGRAD_CASES: { x: number[]; oc: number; padding: 'same' | 'valid' | [number, number, number, number] }[] = [
  { x: [2, 9, 7, 32], oc: 40, padding: 'same' },
  { x: [1, 8, 8, 64], oc: 64, padding: 'valid' },
  { x: [1, 13, 10, 33], oc: 129, padding: [2, 0, 1, 1] },
  { x: [4, 96, 96, 64], oc: 64, padding: 'same' }, // several chunks of scratch
  { x: [1, 10, 9, 300], oc: 48, padding: 'same' }, // > 256 input channels: F(2×2)
  { x: [2, 11, 13, 48], oc: 70, padding: 'valid' }, // F(4×4) with partial tiles at the edges
];
/** A Winograd conv through the whole plan on `ctx`, against float64, with the kernels it should run. */
async function checkWinograd(ctx: GpuContext, c: (typeof WINOGRAD_CASES)[number]): Promise<void> {
  const w = randomArray(9 * c.x[3] * c.oc, 31),
    b = randomArray(c.oc, 32);
  const nodes: WeightedNode[] = [
    { name: 'in', op: { kind: 'input', shape: c.x.slice(1) }, inputs: [] },
    {
      name: 'conv',
      op: {
        kind: 'conv2d',
        attrs: { padding: c.padding, activation: { kind: 'leaky', alpha: 0.1 } },
        kernelShape: [3, 3, c.x[3], c.oc],
      },
      inputs: ['in'],
      weights: { kernel: w, bias: b },
    },
  ];
  const model = await Model.create(ctx, weighted({ name: 'wino', nodes, inputs: ['in'], outputs: ['conv'] }));
  try {
    const x = randomArray(
      c.x.reduce((p, q) => p * q, 1),
      33,
    );
    const r = await model.run(x, { profile: true });
    const m = winogradTileFor([3, 3, c.x[3], c.oc]);
    const chunks = Math.ceil(
      (c.x[0] *
        Math.ceil(r.shapes[0][1] / m) *
        Math.ceil(r.shapes[0][2] / m) *
        (m + 2) ** 2 *
        4 *
        Math.max(c.x[3], c.oc)) /
        WINOGRAD_SCRATCH_BYTES,
    );
    // The batched GEMM shares A by subgroup broadcast where the device allows it, and on a software
    // adapter without (SwiftShader) takes the vec4 tile (see defaultGemmVariant).
    const quads = c.oc % 4 === 0;
    const subgroups = (ctx.caps.subgroupMinSize ?? 0) >= 8;
    const gemm = quads && subgroups ? 'gemm-subgroup' : quads && ctx.caps.software ? 'gemm-vec4' : 'gemm';
    const output4 = c.oc % 4 ? 'winograd4-output' : 'winograd4-output-vec4';
    const names = m === 2 ? ['winograd-input', gemm, 'winograd-output'] : ['winograd4-input', gemm, output4];
    if (ctx.hasTimestamps) assert.equal(r.timings![0].kernels, Array(chunks).fill(names).flat());
    const ref = refConv2d({
      x,
      xShape: c.x,
      w,
      wShape: [3, 3, c.x[3], c.oc],
      b,
      padding: c.padding,
      act: (v) => (v > 0 ? v : 0.1 * v),
    });
    assert.equal(r.shapes[0], ref.shape);
    assertClose(r.outputs[0], ref.y, 2e-5, 'winograd', 'normalized');
  } finally {
    model.dispose();
  }
}

for (const c of WINOGRAD_CASES) {
  gpu(
    `Winograd conv [${c.x}] → ${c.oc}, padding ${JSON.stringify(c.padding)}, matches the float64 reference`,
    async () => checkWinograd(await getCtx(), c),
  );
}

// Chromium's SwiftShader has no subgroups of 8 lanes: its batched products take the vec4 tile.
gpu("Winograd's batched products on a software adapter without subgroups (the vec4 tile) match float64", async () => {
  const swiftshaderLike = await GpuContext.create({ capsOverride: SWIFTSHADER_LIKE_CAPS });
  try {
    for (const c of [WINOGRAD_CASES[0], WINOGRAD_CASES[5], WINOGRAD_CASES[2]]) await checkWinograd(swiftshaderLike, c);
  } finally {
    swiftshaderLike.dispose();
  }
});

gpu(
  'on a software adapter without subgroups, dense heads and 1×1 convs run on vec4 tiles and match float64',
  async () => {
    const swiftshaderLike = await GpuContext.create({ capsOverride: SWIFTSHADER_LIKE_CAPS });
    const [m, k, n] = [100, 48, 32];
    const cases = [
      // A head dense past the GEMV's 64 rows: its transposed kernel is transposed back for the vec4 tile.
      { name: 'dense', shape: [k], batch: m, op: { kind: 'dense', units: n } as Op, wShape: [k, n] },
      // 8 output channels: two quads per lane; 36 channels: a wider workgroup.
      ...[8, 36].map((oc) => ({
        name: `conv1x1 → ${oc}`,
        shape: [5, 4, k],
        batch: 2,
        op: { kind: 'conv2d', attrs: {}, kernelShape: [1, 1, k, oc] } as Op,
        wShape: [k, oc],
      })),
    ];
    try {
      for (const c of cases) {
        const cols = c.wShape[1];
        const w = randomArray(k * cols, 41),
          b = randomArray(cols, 42);
        const graph = weighted({
          name: c.name,
          inputs: ['in'],
          outputs: ['y'],
          nodes: [
            { name: 'in', op: { kind: 'input', shape: c.shape }, inputs: [] },
            { name: 'y', op: c.op, inputs: ['in'], weights: { kernel: w, bias: b } },
          ],
        });
        const model = await Model.create(swiftshaderLike, graph);
        try {
          const rows = (c.batch * c.shape.reduce((p, q) => p * q, 1)) / k;
          const x = randomArray(rows * k, 43);
          const r = await model.run(x, { batch: c.batch, profile: true });
          const kernels = r.timings?.flatMap((t) => t.kernels);
          if (kernels) assert.ok(kernels.includes('gemm-vec4'), `${c.name}: ${kernels.join(', ')}`);
          assertClose(r.outputs[0], refGemm(x, w, rows, k, cols, false, b), 2e-5, c.name, 'normalized');
        } finally {
          model.dispose();
        }
      }
    } finally {
      swiftshaderLike.dispose();
    }
  },
);

gpu('residual adds fold into the Winograd conv before them (Darknet and Keras orders), and match float64', async () => {
  const ctx = await getCtx();
  const c = 48;
  const w1 = randomArray(9 * c * c, 41),
    w2 = randomArray(9 * c * c, 42),
    b1 = randomArray(c, 43),
    b2 = randomArray(c, 44);
  const leaky = (v: number) => (v > 0 ? v : 0.1 * v);
  const relu = (v: number) => Math.max(v, 0);
  for (const order of ['darknet', 'keras'] as const) {
    const conv2Act = order === 'darknet' ? { kind: 'leaky' as const, alpha: 0.1 } : undefined;
    const nodes: WeightedNode[] = [
      { name: 'in', op: { kind: 'input', shape: [10, 9, c] }, inputs: [] },
      {
        name: 'c1',
        op: {
          kind: 'conv2d',
          attrs: { padding: 'same', activation: { kind: 'leaky', alpha: 0.1 } },
          kernelShape: [3, 3, c, c],
        },
        inputs: ['in'],
        weights: { kernel: w1, bias: b1 },
      },
      {
        name: 'c2',
        op: { kind: 'conv2d', attrs: { padding: 'same', activation: conv2Act }, kernelShape: [3, 3, c, c] },
        inputs: ['c1'],
        weights: { kernel: w2, bias: b2 },
      },
      { name: 'sum', op: { kind: 'add' }, inputs: ['c2', 'c1'] },
      ...(order === 'keras'
        ? [{ name: 'out', op: { kind: 'activation' as const, activation: { kind: 'relu' as const } }, inputs: ['sum'] }]
        : []),
    ];
    const output = order === 'keras' ? 'out' : 'sum';
    const model = await Model.create(ctx, weighted({ name: order, nodes, inputs: ['in'], outputs: [output] }));
    try {
      const fused = model.graph.nodes.find((n) => n.name === output)!;
      assert.is(fused.op.kind, 'conv2d', `${order}: ${model.graph.nodes.map((n) => n.name)}`);
      assert.is((fused.op as { residual?: string }).residual, order === 'darknet' ? 'after' : 'before');
      const x = randomArray(2 * 10 * 9 * c, 45);
      const y1 = refConv2d({
        x,
        xShape: [2, 10, 9, c],
        w: w1,
        wShape: [3, 3, c, c],
        b: b1,
        padding: 'same',
        act: leaky,
      });
      const y2 = refConv2d({
        x: y1.y,
        xShape: y1.shape,
        w: w2,
        wShape: [3, 3, c, c],
        b: b2,
        padding: 'same',
        act: order === 'darknet' ? leaky : undefined,
      });
      const expected = y2.y.map((v, i) => (order === 'darknet' ? v + y1.y[i] : relu(v + y1.y[i])));
      assertClose(await model.predict(x), expected, 2e-5, `residual ${order}`, 'normalized');
    } finally {
      model.dispose();
    }
  }
});

gpu(
  'residual adds fold into a 1×1 conv on the subgroup GEMM (both orders) and match float64; elsewhere they stay',
  async () => {
    const ctx = await getCtx();
    const c = 12,
      k = 20;
    const w1 = randomArray(c * k, 51),
      b1 = randomArray(k, 52),
      w2 = randomArray(k * c, 53),
      b2 = randomArray(c, 54);
    const relu = (v: number) => Math.max(v, 0);
    const subgroups = (ctx.caps.subgroupMinSize ?? 0) >= 8;
    for (const order of ['darknet', 'keras'] as const) {
      // A MobileNetV2-style bottleneck: 1×1 expand (relu), 1×1 project (linear), add the input.
      const nodes: WeightedNode[] = [
        { name: 'in', op: { kind: 'input', shape: [7, 9, c] }, inputs: [] },
        {
          name: 'expand',
          op: { kind: 'conv2d', attrs: { activation: { kind: 'relu' } }, kernelShape: [1, 1, c, k] },
          inputs: ['in'],
          weights: { kernel: w1, bias: b1 },
        },
        {
          name: 'project',
          op: { kind: 'conv2d', attrs: {}, kernelShape: [1, 1, k, c] },
          inputs: ['expand'],
          weights: { kernel: w2, bias: b2 },
        },
        // Darknet puts a [dropout] between them (Yolo-Fastest): it folds in with the add.
        ...(order === 'darknet' ? [{ name: 'drop', op: { kind: 'identity' as const }, inputs: ['project'] }] : []),
        { name: 'sum', op: { kind: 'add' }, inputs: [order === 'darknet' ? 'drop' : 'project', 'in'] },
        ...(order === 'keras'
          ? [
              {
                name: 'out',
                op: { kind: 'activation' as const, activation: { kind: 'relu' as const } },
                inputs: ['sum'],
              },
            ]
          : []),
      ];
      const output = order === 'keras' ? 'out' : 'sum';
      const model = await Model.create(ctx, weighted({ name: order, nodes, inputs: ['in'], outputs: [output] }));
      try {
        const fused = model.graph.nodes.find((n) => n.name === output)!;
        // With subgroups the add rides on the project conv's GEMM; without, it stays a separate node.
        assert.is(fused.op.kind === 'conv2d', subgroups, model.graph.nodes.map((n) => `${n.name}:${n.op.kind}`).join());
        if (subgroups) {
          assert.is((fused.op as { residual?: string }).residual, order === 'darknet' ? 'after' : 'before');
          if (order === 'darknet') assert.equal(fused.fused, ['project', 'drop', 'sum']);
        }
        const x = randomArray(2 * 7 * 9 * c, 55);
        const e = refConv2d({ x, xShape: [2, 7, 9, c], w: w1, wShape: [1, 1, c, k], b: b1, act: relu });
        const p = refConv2d({ x: e.y, xShape: e.shape, w: w2, wShape: [1, 1, k, c], b: b2 });
        const expected = p.y.map((v, i) => (order === 'darknet' ? v + x[i] : relu(v + x[i])));
        assertClose(await model.predict(x), expected, 2e-5, `1×1 residual ${order}`, 'normalized');
      } finally {
        model.dispose();
      }
    }
  },
);

gpu('a zero pad read only by a conv becomes its padding (plain and depthwise, valid and explicit)', async () => {
  const ctx = await getCtx();
  const xShape = [2, 7, 6, 8];
  const pads: [number, number, number, number] = [1, 2, 0, 1];
  const x = randomArray(2 * 7 * 6 * 8, 41);
  const cases = [
    { label: 'conv 3×3 s2 valid', groups: 1, oc: 5, own: 'valid' as const },
    { label: 'depthwise 3×3 s2 explicit', groups: 8, oc: 8, own: [0, 1, 1, 0] as [number, number, number, number] },
  ];
  for (const c of cases) {
    const wShape: [number, number, number, number] = [3, 3, 8 / c.groups, c.oc];
    const kernel = randomArray(
      wShape.reduce((a, b) => a * b),
      42,
    );
    const bias = randomArray(c.oc, 43);
    const attrs = { strides: [2, 2] as [number, number], groups: c.groups, padding: c.own };
    for (const alsoOutput of [false, true]) {
      const graph = weighted({
        name: 'pad-conv',
        inputs: ['x'],
        outputs: alsoOutput ? ['conv', 'pad'] : ['conv'],
        nodes: [
          { name: 'x', op: { kind: 'input', shape: xShape.slice(1) }, inputs: [] },
          { name: 'pad', op: { kind: 'pad', pads }, inputs: ['x'] },
          {
            name: 'conv',
            inputs: ['pad'],
            weights: { kernel, bias },
            op: { kind: 'conv2d', kernelShape: wShape, attrs },
          },
        ],
      });
      const model = await Model.create(ctx, graph);
      try {
        const kept = model.graph.nodes.some((n) => n.op.kind === 'pad');
        assert.is(kept, alsoOutput, `${c.label}: the pad stays only where it is read elsewhere`);
        const padded = refPad(x, xShape, pads);
        const want = refConv2d({ x: padded, xShape: [2, 10, 7, 8], w: kernel, wShape, b: bias, ...attrs });
        const r = await model.run(x);
        assertClose(r.outputs[0], want.y, 1e-5, `${c.label} (pad also an output: ${alsoOutput})`, 'normalized');
      } finally {
        model.dispose();
      }
    }
  }
});

gpu(
  'broadcasting binary nodes: a constant on either side, a weight operand, two inputs of different shapes',
  async () => {
    const ctx = await getCtx();
    const slopes = randomArray(6, 71);
    const g = weighted({
      name: 'binary',
      inputs: ['x'],
      outputs: ['out'],
      nodes: [
        { name: 'x', op: { kind: 'input', shape: [4, 5, 6] }, inputs: [] },
        // 3 - x
        { name: 'rsub', op: { kind: 'binary', op: 'sub', constant: { value: 3, first: true } }, inputs: ['x'] },
        // (3 - x) * 0.5
        { name: 'half', op: { kind: 'binary', op: 'mul', constant: { value: 0.5 } }, inputs: ['rsub'] },
        {
          name: 'prelu',
          op: { kind: 'binary', op: 'prelu', operandShape: [1, 1, 6] },
          inputs: ['x'],
          weights: { operand: slopes },
        },
        { name: 'pool', op: { kind: 'global-pool', pool: 'avg', keepDims: true }, inputs: ['prelu'] },
        // (N,4,5,6) × (N,1,1,6)
        { name: 'out', op: { kind: 'binary', op: 'mul', activation: { kind: 'relu' } }, inputs: ['half', 'pool'] },
      ],
    });
    const model = await Model.create(ctx, g);
    try {
      const x = randomArray(2 * 4 * 5 * 6, 72);
      const prelu = Float64Array.from(x, (v, i) => (v >= 0 ? v : slopes[i % 6] * v));
      const mean = new Float64Array(2 * 6);
      prelu.forEach((v, i) => (mean[Math.floor(i / 120) * 6 + (i % 6)] += v / 20));
      const expected = Float64Array.from(x, (v, i) =>
        Math.max(0, (3 - v) * 0.5 * mean[Math.floor(i / 120) * 6 + (i % 6)]),
      );
      assertClose(await model.predict(x), expected, 1e-6, 'binary graph');
    } finally {
      model.dispose();
    }
  },
);

gpu('a layer too big for the device fails at load with the layer named', async () => {
  const nodes: Node[] = [
    { name: 'in', op: { kind: 'input', shape: [1000, 1000, 8] }, inputs: [] },
    { name: 'huge', op: { kind: 'upsample', factors: [4, 4] }, inputs: ['in'] },
  ];
  const graph = weighted({ name: 'big', nodes, inputs: ['in'], outputs: ['huge'] });
  const small = await GpuContext.create({ capsOverride: { maxStorageBindingBytes: 128 << 20 } });
  try {
    await rejects(
      () => Model.create(small, graph),
      /layer 'huge' \(upsample\): output \[1, 4000, 4000, 8\] is 512000000 bytes/,
      TensorTooLargeError,
    );
  } finally {
    small.dispose();
  }
});

gpu.run();
