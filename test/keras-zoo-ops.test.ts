// The kernels the Keras zoo added, each against a float64 reference written here: layer-norm over every
// kind of axis set, crop2d, log-softmax, and squeeze-and-excite's channel scale folded into a 1×1 conv
// (with and without a fused residual, at a batch of 3 so that each image's scale is its own).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { weighted, type Op, type WeightedNode } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { assertClose, prod, randomArray, withGpu } from './harness.js';
import { refConv2d, refGlobalPool } from './reference.js';

const test = suite('keras zoo ops');
const gpu = withGpu(test);

/** A one-op graph on an input of `shape` (batch included), run once. */
async function runOp(
  shape: number[],
  op: Op,
  weights: Record<string, Float32Array> | undefined,
  x: Float32Array,
): Promise<Float32Array> {
  const nodes: WeightedNode[] = [
    { name: 'x', op: { kind: 'input', shape: shape.slice(1) }, inputs: [] },
    { name: 'y', op, inputs: ['x'], weights },
  ];
  const model = await Model.create(await gpu(), weighted({ name: 'op', nodes, inputs: ['x'], outputs: ['y'] }));
  try {
    return await model.predict(x, shape[0]);
  } finally {
    model.dispose();
  }
}

/** Float64 layer norm over `axes` (sorted, positive) with gamma/beta shaped as the sizes at those axes. */
function refLayerNorm(
  x: Float32Array,
  shape: number[],
  axes: number[],
  eps: number,
  gamma?: Float32Array,
  beta?: Float32Array,
): Float64Array {
  const strides = shape.map((_, i) => prod(shape.slice(i + 1)));
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const y = new Float64Array(x.length);
  const count = prod(axes.map((a) => shape[a]));
  const index = (dims: number[], r: number) => {
    const out: number[] = [];
    for (let i = dims.length - 1; i >= 0; i--) {
      out[i] = r % shape[dims[i]];
      r = Math.floor(r / shape[dims[i]]);
    }
    return out;
  };
  for (let p = 0; p < prod(kept.map((a) => shape[a])); p++) {
    const base = index(kept, p).reduce((s, v, i) => s + v * strides[kept[i]], 0);
    const at = (r: number) => base + index(axes, r).reduce((s, v, i) => s + v * strides[axes[i]], 0);
    let mean = 0;
    for (let r = 0; r < count; r++) mean += x[at(r)] / count;
    let variance = 0;
    for (let r = 0; r < count; r++) variance += (x[at(r)] - mean) ** 2 / count;
    for (let r = 0; r < count; r++)
      y[at(r)] = ((x[at(r)] - mean) / Math.sqrt(variance + eps)) * (gamma?.[r] ?? 1) + (beta?.[r] ?? 0);
  }
  return y;
}

const SHAPE = [2, 4, 5, 6];
for (const axes of [[3], [1, 2, 3], [1, 2], [1, 3], [2], [1]]) {
  for (const [center, scale] of [
    [true, true],
    [false, true],
    [true, false],
    [false, false],
  ]) {
    test(`layer-norm axes [${axes}] center=${center} scale=${scale}`, async () => {
      // An offset mean and a wide spread: the two-pass variance must not cancel.
      const x = randomArray(prod(SHAPE), 11, 20, 30);
      const count = prod(axes.map((a) => SHAPE[a]));
      const gamma = scale ? randomArray(count, 12, 0.5, 1.5) : undefined;
      const beta = center ? randomArray(count, 13) : undefined;
      const w: Record<string, Float32Array> = {};
      if (gamma) w.gamma = gamma;
      if (beta) w.beta = beta;
      // Negative axes as Keras writes [-1]; the rest positive.
      const given = axes.length === 1 && axes[0] === 3 ? [-1] : axes;
      const got = await runOp(SHAPE, { kind: 'layer-norm', axes: given, epsilon: 1e-3 }, w, x);
      assertClose(got, refLayerNorm(x, SHAPE, axes, 1e-3, gamma, beta), 2e-5, `axes [${axes}]`, 'normalized');
    });
  }
}

test('layer-norm on a 2-D input, epsilon 1e-6 (ConvNeXt)', async () => {
  const x = randomArray(14, 14, -3, 3);
  const gamma = randomArray(7, 15, 0.5, 1.5);
  const got = await runOp([2, 7], { kind: 'layer-norm', axes: [-1], epsilon: 1e-6 }, { gamma }, x);
  assertClose(got, refLayerNorm(x, [2, 7], [1], 1e-6, gamma), 2e-6, 'ln 2-D', 'normalized');
});

test('crop2d takes top/bottom/left/right off NHWC', async () => {
  const shape = [2, 7, 8, 3];
  const x = randomArray(prod(shape), 16);
  const [t, b, l, r] = [1, 2, 0, 3];
  const want: number[] = [];
  for (let n = 0; n < 2; n++)
    for (let y = t; y < 7 - b; y++)
      for (let xx = l; xx < 8 - r; xx++) for (let c = 0; c < 3; c++) want.push(x[((n * 7 + y) * 8 + xx) * 3 + c]);
  assertClose(await runOp(shape, { kind: 'crop2d', crops: [t, b, l, r] }, undefined, x), want, 0, 'crop2d');
});

test('log-softmax stays exact far below the maximum', async () => {
  const x = randomArray(3 * 40, 17, -50, 50);
  x[5] = 120; // exp(x − max) underflows for most of row 0: log(softmax) would be −∞ there
  const want = new Float64Array(x.length);
  for (let r = 0; r < 3; r++) {
    const row = Array.from(x.subarray(r * 40, (r + 1) * 40));
    const top = Math.max(...row);
    const lse = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    row.forEach((v, i) => (want[r * 40 + i] = v - lse));
  }
  assertClose(await runOp([3, 40], { kind: 'log-softmax' }, undefined, x), want, 1e-4, 'log-softmax', 'normalized');
});

/**
 * Squeeze-and-excite as EfficientNet writes it: s = sigmoid(conv1x1(relu(conv1x1(gap(x))))),
 * y = conv1x1(x ⊙ s) (+ r, then relu, with `residual`). The passes fold the multiply into the last conv
 * and the gate's two convs into its weight-scaling dispatch (se-gate), unless the gate's value is kept.
 */
const SE_CASES = [
  { label: '', residual: false, sizes: [3, 5, 6, 8, 4, 12], keep: [] as string[] },
  { label: ' with a fused residual', residual: true, sizes: [3, 5, 6, 8, 4, 12], keep: [] },
  // More channels than se-gate's 64 lanes (a ragged second block) and more reduced values than lanes.
  { label: ', 72 channels through 70', residual: false, sizes: [2, 3, 4, 72, 70, 20], keep: [] },
  { label: ', the gate kept (its convs run apart)', residual: false, sizes: [2, 3, 4, 8, 4, 12], keep: ['reduce'] },
];
for (const { label, residual, sizes, keep } of SE_CASES) {
  test(`squeeze-and-excite channel scale folded into the 1×1 conv${label}`, async () => {
    const [n, h, w, c, mid, oc] = sizes;
    const x = randomArray(n * h * w * c, 21);
    const W = {
      reduce: { kernel: randomArray(c * mid, 22), bias: randomArray(mid, 23) },
      expand: { kernel: randomArray(mid * c, 24), bias: randomArray(c, 25) },
      project: { kernel: randomArray(c * oc, 26), bias: randomArray(oc, 27) },
      side: { kernel: randomArray(c * oc, 28), bias: randomArray(oc, 29) },
    };
    const conv = (cin: number, cout: number, act?: 'relu' | 'sigmoid'): Op => ({
      kind: 'conv2d',
      kernelShape: [1, 1, cin, cout],
      attrs: act ? { activation: { kind: act } } : {},
    });
    const nodes: WeightedNode[] = [
      { name: 'x', op: { kind: 'input', shape: [h, w, c] }, inputs: [] },
      { name: 'squeeze', op: { kind: 'global-pool', pool: 'avg', keepDims: true }, inputs: ['x'] },
      { name: 'reduce', op: conv(c, mid, 'relu'), inputs: ['squeeze'], weights: W.reduce },
      { name: 'expand', op: conv(mid, c, 'sigmoid'), inputs: ['reduce'], weights: W.expand },
      { name: 'excite', op: { kind: 'binary', op: 'mul', batchAligned: true }, inputs: ['x', 'expand'] },
      { name: 'project', op: conv(c, oc), inputs: ['excite'], weights: W.project },
    ];
    if (residual) {
      nodes.splice(1, 0, { name: 'side', op: conv(c, oc), inputs: ['x'], weights: W.side });
      nodes.push({ name: 'sum', op: { kind: 'add', activation: { kind: 'relu' } }, inputs: ['project', 'side'] });
    }
    const out = residual ? 'sum' : 'project';
    const ctx = await gpu();
    const model = await Model.create(ctx, weighted({ name: 'se', nodes, inputs: ['x'], outputs: [out] }), { keep });
    // A residual folds into a 1×1 conv only on the subgroup GEMM (subgroups of ≥ 8 lanes; not Chromium's SwiftShader).
    const residualFolds = residual && (ctx.caps.subgroupMinSize ?? 0) >= 8;
    try {
      const fused = model.graph.nodes.find((node) => node.name === (residualFolds ? out : 'project'))!;
      assert.ok(!model.graph.nodes.some((node) => node.name === 'excite'), 'the multiply is folded away');
      assert.ok(fused.op.kind === 'conv2d' && fused.op.channelScale, 'the projection conv takes the scale');
      const gated = !keep.length;
      assert.is(!!(fused.op.kind === 'conv2d' && fused.op.gate), gated, 'the gate moves into the conv');
      assert.is(
        model.graph.nodes.some((node) => node.name === 'reduce' || node.name === 'expand'),
        !gated,
        'the gate convs',
      );
      const { timings } = await model.run(x, { batch: n, profile: true });
      const kernels = timings?.flatMap((t) => t.kernels);
      if (kernels) assert.is(kernels.includes('se-gate'), gated, `se-gate among ${kernels.join(', ')}`);
      const got = await model.predict(x, n);

      const gap = refGlobalPool(x, [n, h, w, c], 'avg');
      const one = (
        v: ArrayLike<number>,
        shape: number[],
        k: { kernel: Float32Array; bias: Float32Array },
        cout: number,
        act?: (v: number) => number,
      ) => refConv2d({ x: v, xShape: shape, w: k.kernel, wShape: [1, 1, shape[3], cout], b: k.bias, act }).y;
      const r = one(gap, [n, 1, 1, c], W.reduce, mid, (v) => Math.max(v, 0));
      const s = one(r, [n, 1, 1, mid], W.expand, c, (v) => 1 / (1 + Math.exp(-v)));
      const scaled = Float64Array.from(x, (v, i) => v * s[Math.floor(i / (h * w * c)) * c + (i % c)]);
      let want = one(scaled, [n, h, w, c], W.project, oc);
      if (residual) {
        const side = one(x, [n, h, w, c], W.side, oc);
        want = want.map((v, i) => Math.max(v + side[i], 0));
        if (residualFolds)
          assert.is(fused.op.kind === 'conv2d' && fused.op.residual, 'before', 'the residual add is fused too');
      }
      assertClose(got, want, 2e-6, 'se', 'normalized');
    } finally {
      model.dispose();
    }
  });
}

test.run();
