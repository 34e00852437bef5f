// f16 weights (Model option f16Weights): the float32 → binary16 conversion bit for bit, and every
// kernel variant that reads f16 weights against a float64 reference run on the same rounded weights.
// On an adapter without shader-f16 (Chromium's SwiftShader) the option must fail clearly instead.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GpuContext } from '../src/gpu/context.js';
import { toF16Array, toF16Bits } from '../src/gpu/f16.js';
import { weighted, type WeightedGraph, type WeightedNode } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { gemmClass } from '../src/ops/gemm.js';
import type { TileVariant } from '../src/gpu/dispatch.js';
import { assertClose, closeness, randomArray, rejects, rng, withGpu } from './harness.js';
import { refConv2d, refGemm } from './reference.js';

const test = suite('f16 weights');
const gpu = withGpu(test);

/** binary16 bits → number (exact). */
/* The reference decoder: the test's own, so the encoder is checked against an independent inverse. */
function fromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const roundF16 = (a: Float32Array) => Float32Array.from(a, (v) => fromF16Bits(toF16Bits(v)));

test('float32 → f16 bits: exact values, overflow, subnormals and ties to even', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65519.99, 0x7bff],
    [65520, 0x7c00],
    [1e9, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [1 / 3, 0x3555],
    [0.1, 0x2e66],
  ];
  for (const [v, bits] of cases)
    assert.is(toF16Bits(v), bits, `${v} → 0x${toF16Bits(v).toString(16)}, expected 0x${bits.toString(16)}`);
  assert.is(toF16Bits(NaN) & 0x7e00, 0x7e00, 'NaN stays NaN');
  assert.is(toF16Array(new Float32Array(3)).length, 4, 'padded to an even length');
});

test('float32 → f16 picks the nearest f16 for 20,000 random values across the range', () => {
  const r = rng(5);
  for (let i = 0; i < 20000; i++) {
    const v = Math.fround((r() - 0.5) * 2 ** Math.floor(r() * 40 - 28));
    const h = toF16Bits(v);
    const err = Math.abs(fromF16Bits(h) - v);
    for (const other of [h - 1, h + 1]) {
      if ((other & 0x7fff) > 0x7bff || other < 0 || (other ^ h) & 0x8000) continue;
      assert.ok(Math.abs(fromF16Bits(other) - v) >= err, `${v}: 0x${h.toString(16)} is not the nearest f16`);
    }
  }
});

/**
 * input 13×11×40 → conv 3×3 s2 (40→36) → conv 3×3 s1 same (36→40, Winograd when allowed) → conv 1×1 (40→20)
 * → flatten → dense 7.
 */
function net(): { graph: WeightedGraph; w: Record<string, Float32Array> } {
  const w = {
    c1: randomArray(9 * 40 * 36, 1, -0.2, 0.2),
    b1: randomArray(36, 2),
    c2: randomArray(9 * 36 * 40, 3, -0.2, 0.2),
    b2: randomArray(40, 4),
    c3: randomArray(40 * 20, 5, -0.3, 0.3),
    b3: randomArray(20, 6),
    d: randomArray(7 * 6 * 20 * 7, 7, -0.1, 0.1),
    db: randomArray(7, 8),
  };
  const nodes: WeightedNode[] = [
    { name: 'x', op: { kind: 'input', shape: [13, 11, 40] }, inputs: [] },
    {
      name: 'c1',
      op: {
        kind: 'conv2d',
        attrs: { strides: [2, 2], padding: 'same', activation: { kind: 'relu' } },
        kernelShape: [3, 3, 40, 36],
      },
      inputs: ['x'],
      weights: { kernel: w.c1, bias: w.b1 },
    },
    {
      name: 'c2',
      op: { kind: 'conv2d', attrs: { padding: 'same', activation: { kind: 'relu' } }, kernelShape: [3, 3, 36, 40] },
      inputs: ['c1'],
      weights: { kernel: w.c2, bias: w.b2 },
    },
    {
      name: 'c3',
      op: { kind: 'conv2d', attrs: {}, kernelShape: [1, 1, 40, 20] },
      inputs: ['c2'],
      weights: { kernel: w.c3, bias: w.b3 },
    },
    { name: 'flat', op: { kind: 'reshape', shape: [-1] }, inputs: ['c3'] },
    { name: 'd', op: { kind: 'dense', units: 7 }, inputs: ['flat'], weights: { kernel: w.d, bias: w.db } },
  ];
  return { graph: weighted({ name: 'f16-net', nodes, inputs: ['x'], outputs: ['d'] }), w };
}

/** The same network in float64 with the given weights. */
function reference(x: Float32Array, w: Record<string, Float32Array>, batch: number): Float64Array {
  const relu = (v: number) => Math.max(v, 0);
  const c1 = refConv2d({
    x,
    xShape: [batch, 13, 11, 40],
    w: w.c1,
    wShape: [3, 3, 40, 36],
    b: w.b1,
    strides: [2, 2],
    padding: 'same',
    act: relu,
  });
  const c2 = refConv2d({
    x: c1.y,
    xShape: c1.shape,
    w: w.c2,
    wShape: [3, 3, 36, 40],
    b: w.b2,
    padding: 'same',
    act: relu,
  });
  const c3 = refConv2d({ x: c2.y, xShape: c2.shape, w: w.c3, wShape: [1, 1, 40, 20], b: w.b3 });
  return refGemm(c3.y, w.d, batch, 7 * 6 * 20, 7, false, w.db);
}

const f16Weights = (w: Record<string, Float32Array>) => ({
  ...w,
  c1: roundF16(w.c1),
  c2: roundF16(w.c2),
  c3: roundF16(w.c3),
  d: roundF16(w.d),
});

async function hasF16(): Promise<boolean> {
  return (await gpu()).device.features.has('shader-f16');
}

test('direct convs, the 1×1 GEMM and dense read f16 weights: float64 on the rounded weights, to 1e-5', async () => {
  if (!(await hasF16())) return;
  const { graph, w } = net();
  const x = randomArray(2 * 13 * 11 * 40, 9);
  const model = await Model.create(await gpu(), graph, { f16Weights: true, winograd: false });
  const f32 = await Model.create(await gpu(), graph, { winograd: false });
  try {
    const got = (await model.run(x, { batch: 2 })).outputs[0];
    assertClose(got, reference(x, f16Weights(w), 2), 1e-5, 'f16 weights', 'normalized');
    // And against the f32 weights the error is that of the rounding: visible, but small.
    const err = closeness(got, reference(x, w, 2)).normalized;
    assert.ok(err > 1e-6 && err < 5e-3, `f16 vs f32 weights: normalized error ${err}`);
    assert.ok(
      model.weightBytes < 0.55 * f32.weightBytes,
      `weights ${model.weightBytes} B vs ${f32.weightBytes} B in f32`,
    );
  } finally {
    model.dispose();
    f32.dispose();
  }
});

test('Winograd with f16 transformed weights stays within f16 rounding of float64', async () => {
  if (!(await hasF16())) return;
  const { graph, w } = net();
  const x = randomArray(13 * 11 * 40, 10);
  const model = await Model.create(await gpu(), graph, { f16Weights: true });
  try {
    const r = await model.run(x, { profile: true });
    const ctx = await gpu();
    if (ctx.hasTimestamps)
      assert.ok(
        r.timings!.some((t) => t.kernels.includes('winograd4-input')),
        'c2 runs as Winograd',
      );
    assertClose(r.outputs[0], reference(x, w, 1), 5e-3, 'winograd f16', 'normalized');
  } finally {
    model.dispose();
  }
});

const VARIANTS: [string, TileVariant][] = [
  ['vec4', { kind: 'vec4', tm: 4, tn: 2, wgX: 8, wgY: 8 }],
  ['workgroup-tiled', { kind: 'tiled', tm: 4, tn: 4, wgX: 8, wgY: 8, tk: 8 }],
  ['register', { kind: 'register', tm: 2, tn: 4, wgX: 8, wgY: 8 }],
  ['subgroup', { kind: 'subgroup', tm: 16, tn: 2, wgX: 8, wgY: 1 }],
];
for (const [label, variant] of VARIANTS) {
  test(`the ${label} GEMM reads f16 weights (dense 11×3×120 → 64)`, async () => {
    if (!(await hasF16())) return;
    const ctx = await GpuContext.create({ capsOverride: { tuned: { [gemmClass(33, 64)]: variant } } });
    const weights = randomArray(120 * 64, 11),
      bias = randomArray(64, 12);
    const graph = weighted({
      name: 'dense',
      inputs: ['x'],
      outputs: ['y'],
      // A dense along the last of several axes (33 rows for 11 items): the GEMM, not the head's GEMV.
      nodes: [
        { name: 'x', op: { kind: 'input', shape: [3, 120] }, inputs: [] },
        { name: 'y', op: { kind: 'dense', units: 64 }, inputs: ['x'], weights: { kernel: weights, bias } },
      ],
    });
    const model = await Model.create(ctx, graph, { f16Weights: true });
    try {
      const x = randomArray(33 * 120, 13);
      const r = await model.run(x, { batch: 11, profile: true });
      const subgroups = (ctx.caps.subgroupMinSize ?? 0) >= 8; // else the subgroup kind falls back to the register one
      const kernel =
        variant.kind === 'vec4'
          ? 'gemm-vec4'
          : variant.kind === 'tiled'
            ? 'gemm-tiled'
            : variant.kind === 'subgroup' && subgroups
              ? 'gemm-subgroup'
              : 'gemm';
      if (ctx.hasTimestamps) assert.equal(r.timings![0].kernels, [kernel]);
      assertClose(r.outputs[0], refGemm(x, roundF16(weights), 33, 120, 64, false, bias), 1e-5, label, 'normalized');
    } finally {
      model.dispose();
      ctx.dispose();
    }
  });
}

test('the head GEMV reads f16 weights (dense [k] → n at batches 1 and 3)', async () => {
  if (!(await hasF16())) return;
  const ctx = await gpu();
  const [k, n] = [260, 36];
  const weights = randomArray(k * n, 14),
    bias = randomArray(n, 15);
  const graph = weighted({
    name: 'head',
    inputs: ['x'],
    outputs: ['y'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [k] }, inputs: [] },
      { name: 'y', op: { kind: 'dense', units: n }, inputs: ['x'], weights: { kernel: weights, bias } },
    ],
  });
  const model = await Model.create(ctx, graph, { f16Weights: true });
  try {
    for (const batch of [1, 3]) {
      const x = randomArray(batch * k, 16 + batch);
      const r = await model.run(x, { profile: true });
      if (ctx.hasTimestamps) assert.equal(r.timings![0].kernels, ['gemv-vec4']);
      assertClose(
        r.outputs[0],
        refGemm(x, roundF16(weights), batch, k, n, false, bias),
        1e-5,
        `batch ${batch}`,
        'normalized',
      );
    }
    assert.is(model.weightBytes, 2 * k * n + 4 * n);
  } finally {
    model.dispose();
  }
});

test('without shader-f16 the option fails and names the feature', async () => {
  const ctx = await gpu();
  if (ctx.device.features.has('shader-f16')) {
    // Emulate an adapter without it: a device created without the feature.
    const plain = await GpuContext.create({ optionalFeatures: [] });
    try {
      await rejects(() => Model.create(plain, net().graph, { f16Weights: true }), /shader-f16/);
    } finally {
      plain.dispose();
    }
  } else {
    await rejects(() => Model.create(ctx, net().graph, { f16Weights: true }), /shader-f16/);
  }
});

test.run();
