import { suite } from 'uvu';
import * as ops from '../src/eager.js';
import * as assert from 'uvu/assert';
import { GpuContext } from '../src/gpu/context.js';
import { weighted, type WeightedGraph } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { gemmBlockCount, type GemmVariant } from '../src/ops/gemm.js';
import { assertClose, randomArray, take, upload, withGpu } from './harness.js';
import { refActivation, refGemm } from './reference.js';

const test = suite('gemm');
const gpu = withGpu(test);

async function check(
  ctx: GpuContext,
  m: number,
  k: number,
  n: number,
  opts: { transB?: boolean; bias?: boolean; relu?: boolean; seed: number; label?: string },
) {
  const a = randomArray(m * k, opts.seed),
    b = randomArray(k * n, opts.seed + 1);
  const bias = opts.bias ? randomArray(n, opts.seed + 2) : undefined;
  const act = opts.relu ? (v: number) => refActivation('relu', v) : undefined;
  const ref = refGemm(a, b, m, k, n, opts.transB, bias, act);
  const at = upload(ctx, a, [m, k]);
  const w = ops.GemmWeight.upload(ctx, b, k, n, opts.transB);
  const bt = bias ? upload(ctx, bias, [n]) : null;
  const got = await take(await ops.gemm(at, w, bt, opts.relu ? { kind: 'relu' } : undefined));
  at.dispose();
  w.dispose();
  bt?.dispose();
  assertClose(got, ref, 2e-5, opts.label ?? `gemm ${m}x${k}x${n}${opts.transB ? ' transB' : ''}`, 'normalized');
  return w.blocks.length;
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 5],
  [3, 17, 64],
  [4, 64, 4],
  [5, 33, 31],
  [64, 64, 64],
  [67, 129, 71],
  [128, 256, 96],
  [2, 1000, 10],
  [70, 65, 200],
  [130, 64, 129],
];
shapes.forEach(([m, k, n], i) => {
  test(`${m}x${k}x${n}`, async () => {
    await check(await gpu(), m, k, n, { seed: i, bias: i % 2 === 0, relu: i % 3 === 0 });
  });
  test(`${m}x${k}x${n} transposed B`, async () => {
    await check(await gpu(), m, k, n, { seed: 50 + i, transB: true, bias: true });
  });
});

// The subgroup kernel (A shared by broadcast) at each candidate tile, on shapes with ragged edges in
// rows and columns. Where the device has no subgroups of ≥ 8 lanes the planner falls back, and the
// same checks then cover the fallback.
const SUBGROUP_TILES: GemmVariant[] = [
  { kind: 'subgroup', tm: 16, tn: 4, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 8, tn: 1, wgX: 16, wgY: 1 },
  { kind: 'subgroup', tm: 32, tn: 2, wgX: 8, wgY: 1 },
  // The small tiles whose sums go through workgroup memory (gemm-subgroup.wgsl's parked epilogue).
  { kind: 'subgroup', tm: 16, tn: 2, wgX: 8, wgY: 1 },
  { kind: 'subgroup', tm: 8, tn: 2, wgX: 16, wgY: 1 },
];
for (const v of SUBGROUP_TILES) {
  test(`subgroup GEMM TM${v.tm} TN${v.tn} WG${v.wgX} on ragged shapes`, async () => {
    const ctx = await gpu();
    for (const [m, k, n, seed] of [
      [37, 29, 44, 1],
      [5, 70, 132, 2],
      [70, 3, 8, 3],
    ]) {
      const a = randomArray(m * k, seed),
        b = randomArray(k * n, seed + 1),
        bias = randomArray(n, seed + 2);
      const at = upload(ctx, a, [m, k]);
      const w = ops.GemmWeight.upload(ctx, b, k, n);
      const bt = upload(ctx, bias, [n]);
      const got = await take(await ops.gemm(at, w, bt, { kind: 'relu' }, { variant: v }));
      at.dispose();
      w.dispose();
      bt.dispose();
      assertClose(
        got,
        refGemm(a, b, m, k, n, false, bias, (x) => refActivation('relu', x)),
        2e-5,
        `${m}x${k}x${n}`,
        'normalized',
      );
    }
  });
}

test('a B larger than one binding is split into column blocks (emulated 4 KiB binding limit)', async () => {
  const small = await GpuContext.create({ capsOverride: { maxStorageBindingBytes: 4096 } });
  try {
    // k = 100: 10 columns fit 4 KiB, rounded down to 8 per block → 5 blocks for n = 37.
    for (const transB of [false, true]) {
      const blocks = await check(small, 3, 100, 37, {
        seed: 7,
        transB,
        bias: true,
        relu: true,
        label: `split transB=${transB}`,
      });
      if (blocks !== 5) throw new Error(`expected 5 blocks, got ${blocks}`);
    }
  } finally {
    small.dispose();
  }
});

test("VGG16 fc1's full 25088×4096 weight (411 MB) runs on a 128 MiB binding limit", async () => {
  const ctx = await gpu();
  const [m, k, n] = [1, 25088, 4096];
  const caps = { ...ctx.caps, maxStorageBindingBytes: Math.min(ctx.caps.maxStorageBindingBytes, 128 * 1024 * 1024) };
  if (gemmBlockCount({ m, k, n }, caps) < 4) throw new Error('fc1 should need at least 4 blocks at 128 MiB');
  const a = randomArray(k, 11);
  const b = randomArray(k * n, 12, -0.01, 0.01);
  const at = upload(ctx, a, [m, k]);
  const w = ops.GemmWeight.upload(ctx, b, k, n);
  const got = await take(await ops.gemm(at, w, null));
  at.dispose();
  w.dispose();
  assertClose(got, refGemm(a, b, m, k, n), 2e-5, 'fc1', 'normalized');
});

// Every specialisation the tuner may pick computes the same thing: register-blocked and
// workgroup-tiled, tile sizes, workgroup shapes, on sizes that divide no tile.
const VARIANTS: GemmVariant[] = [
  { tm: 1, tn: 1, wgX: 64, wgY: 1 },
  { tm: 1, tn: 4, wgX: 64, wgY: 1 },
  { tm: 4, tn: 4, wgX: 8, wgY: 8 },
  { tm: 8, tn: 8, wgX: 8, wgY: 8 },
  { tm: 2, tn: 8, wgX: 16, wgY: 4 },
  { tm: 8, tn: 8, wgX: 16, wgY: 16 },
  { tm: 8, tn: 16, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 4, tn: 1, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 8, tn: 2, wgX: 8, wgY: 8 },
  { kind: 'vec4', tm: 3, tn: 3, wgX: 4, wgY: 16 },
  { kind: 'tiled', tm: 4, tn: 4, wgX: 16, wgY: 16, tk: 16 },
  { kind: 'tiled', tm: 2, tn: 2, wgX: 8, wgY: 8, tk: 8 },
  { kind: 'tiled', tm: 8, tn: 4, wgX: 8, wgY: 16, tk: 4 },
  { kind: 'tiled', tm: 1, tn: 1, wgX: 16, wgY: 16, tk: 32 },
];
for (const v of VARIANTS) {
  const label = `${v.kind ?? 'register'} TM${v.tm} TN${v.tn} WG${v.wgX}×${v.wgY}${v.tk ? ` TK${v.tk}` : ''}`;
  test(`variant ${label}`, async () => {
    const ctx = await gpu();
    // n = 200 and 132 are quads (the vec4 kernel runs); 71 and 9 are not (it falls back).
    for (const [m, k, n, transB] of [
      [67, 129, 71, false],
      [3, 40, 9, true],
      [130, 17, 200, false],
      [5, 33, 132, false],
    ] as const) {
      const a = randomArray(m * k, m),
        b = randomArray(k * n, n),
        bias = randomArray(n, k);
      const at = upload(ctx, a, [m, k]),
        w = ops.GemmWeight.upload(ctx, b, k, n, transB),
        bt = upload(ctx, bias, [n]);
      const got = await take(await ops.gemm(at, w, bt, { kind: 'relu' }, { variant: v }));
      at.dispose();
      w.dispose();
      bt.dispose();
      assertClose(
        got,
        refGemm(a, b, m, k, n, transB, bias, (x) => Math.max(0, x)),
        2e-5,
        `${label} ${m}x${k}x${n}`,
        'normalized',
      );
    }
  });
}

// A model head's dense layer ([batch, k] → [batch, n]) runs as the GEMV on transposed weights at every
// batch: row tiles of 1, 2 and 4 with ragged edges, weights split into row blocks (f16 weights: f16.test.ts).
const headDense = (k: number, n: number, kernel: Float32Array, bias: Float32Array): WeightedGraph =>
  weighted({
    name: 'head',
    inputs: ['x'],
    outputs: ['y'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [k] }, inputs: [] },
      {
        name: 'y',
        op: { kind: 'dense', units: n, activation: { kind: 'relu' } },
        inputs: ['x'],
        weights: { kernel, bias },
      },
    ],
  });

for (const [k, kernelName] of [
  [300, 'gemv-vec4'],
  [301, 'gemv'],
] as const) {
  test(`head dense ${k} → 70 runs as ${kernelName} at batches 1–7, in row blocks too, against float64`, async () => {
    const n = 70;
    const kernel = randomArray(k * n, 21);
    const bias = randomArray(n, 22);
    const relu = (v: number) => Math.max(0, v);
    const check = async (ctx: GpuContext, label: string) => {
      const model = await Model.create(ctx, headDense(k, n, kernel, bias));
      try {
        for (const batch of [1, 2, 3, 5, 7]) {
          const x = randomArray(batch * k, 30 + batch);
          const r = await model.run(x, { profile: true });
          const kernels = r.timings?.[0].kernels ?? [];
          if (ctx.hasTimestamps)
            assert.ok(
              kernels.every((kn) => kn === kernelName),
              `${label}: ${kernels}`,
            );
          const want = refGemm(x, kernel, batch, k, n, false, bias, relu);
          assertClose(r.outputs[0], want, 2e-6, `${label} batch ${batch}`, 'normalized');
        }
      } finally {
        model.dispose();
      }
    };
    await check(await gpu(), 'one block');
    // The limit holds 8 rows of k values, so 70 outputs take 9 blocks.
    const small = await GpuContext.create({ capsOverride: { maxStorageBindingBytes: 8 * 4 * k } });
    try {
      await check(small, 'row blocks of 8');
    } finally {
      small.dispose();
    }
  });
}

test('head dense 256 → 96 past the GEMV rows (batches 70 and 130), against float64', async () => {
  // Where subgroups run, the transposed kernel goes back to row-major in scratch for the subgroup GEMM.
  const [k, n] = [256, 96];
  const kernel = randomArray(k * n, 41),
    bias = randomArray(n, 42);
  const model = await Model.create(await gpu(), headDense(k, n, kernel, bias));
  try {
    for (const batch of [1, 70, 130]) {
      const x = randomArray(batch * k, 43 + batch);
      const want = refGemm(x, kernel, batch, k, n, false, bias, (v) => Math.max(0, v));
      assertClose((await model.run(x)).outputs[0], want, 2e-6, `batch ${batch}`, 'normalized');
    }
  } finally {
    model.dispose();
  }
});

test.run();
