// Every training kernel against float64: the backward kernels against central finite differences of a
// float64 forward pass (the gradient of L = Σ r·f(x) for a random upstream r), the loss layer against
// finite differences of its own float64 loss, the optimisers against Keras 3's update formulas.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { GpuContext } from '../src/gpu/context.js';
import type { Dispatch } from '../src/gpu/dispatch.js';
import {
  biasGradDispatch,
  denseDispatch,
  dropoutDispatch,
  gatherDispatch,
  gemmAtDispatch,
  lossDispatch,
  reluBackwardDispatch,
} from '../src/train/kernels.js';
import { optimizerDispatch, resolveOptimizer } from '../src/train/optimizer.js';
import { bindSlices } from '../src/train/program.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { keepMask, refDense, refLoss, refUpdate } from './train-reference.js';

const test = suite('train-kernels');
const gpu = withGpu(test);

/**
 * Runs one dispatch on fresh buffers: its inputs in order, then its output (a size, or values when it is
 * updated in place); returns every buffer's contents afterwards, in the same order.
 */
async function runKernel(
  ctx: GpuContext,
  d: Dispatch,
  buffers: (Float32Array | Uint32Array | number)[],
): Promise<Float32Array[]> {
  const gpuBuffers = buffers.map((b) => {
    const size = typeof b === 'number' ? b : b.length;
    const buf = ctx.createBuffer(4 * size, 'test');
    if (typeof b !== 'number')
      ctx.device.queue.writeBuffer(buf, 0, b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
    return buf;
  });
  try {
    const inPlace = d.bindings.every((b) => b.kind !== 'output');
    const outputBuffer = inPlace ? gpuBuffers[1] : gpuBuffers[gpuBuffers.length - 1];
    await ctx.run([
      { dispatch: d, buffers: bindSlices(d, inPlace ? gpuBuffers : gpuBuffers.slice(0, -1), outputBuffer) },
    ]);
    return await Promise.all(
      gpuBuffers.map((b, i) =>
        ctx.readBuffer(
          b,
          4 * (typeof buffers[i] === 'number' ? (buffers[i] as number) : (buffers[i] as Float32Array).length),
        ),
      ),
    );
  } finally {
    gpuBuffers.forEach((b) => ctx.destroyBuffer(b));
  }
}

/** Up to 48 indices of x spread over it (first, last and a stride between): where differences are taken. */
const probes = (n: number) =>
  [...new Set([0, n - 1, ...Array.from({ length: 46 }, (_, i) => Math.floor(((i + 0.5) * n) / 46))])].filter(
    (i) => i < n,
  );

/** Central differences of f at x in float64, ∂f/∂x_i at the probes; returns them and the kernel's values there. */
function numericGradient(
  f: (x: Float64Array) => number,
  x: Float64Array,
  got: ArrayLike<number>,
  h = 1e-6,
): { numeric: number[]; kernel: number[] } {
  const at = probes(x.length);
  const numeric = at.map((i) => {
    const v = x[i];
    x[i] = v + h;
    const up = f(x);
    x[i] = v - h;
    const down = f(x);
    x[i] = v;
    return (up - down) / (2 * h);
  });
  return { numeric, kernel: at.map((i) => got[i]) };
}

function assertGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  got: ArrayLike<number>,
  tol: number,
  label: string,
): void {
  const { numeric, kernel } = numericGradient(f, f64(x), got);
  assertClose(kernel, numeric, tol, label, 'normalized');
}

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

// Shapes with ragged edges against the 4×4 register tiles and 8×8 workgroups, and one GEMV-sized batch.
const DENSE: [number, number, number][] = [
  [1, 5, 3],
  [7, 13, 9],
  [32, 70, 33],
  [33, 128, 10],
];

DENSE.forEach(([m, k, n], c) => {
  test(`dense ${m}×${k}→${n}: dW = xᵀ·r, db = Σ r, dx = r·Wᵀ against finite differences`, async () => {
    const ctx = await gpu();
    const x = randomArray(m * k, 10 + c),
      w = randomArray(k * n, 20 + c),
      b = randomArray(n, 30 + c),
      r = randomArray(m * n, 40 + c);
    const layer = (kernel: Float64Array, bias: Float64Array) => ({ kernel, bias, inputs: k, units: n });
    const L = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => dot(refDense(xx, m, layer(ww, bb)), r);
    const [, , gW] = await runKernel(ctx, gemmAtDispatch(m, k, n, ctx.caps), [x, r, k * n]);
    const [, gb] = await runKernel(ctx, biasGradDispatch(m, n, ctx.caps), [r, n]);
    // r·Wᵀ is the dense GEMM with a transposed B.
    const [, , gx] = await runKernel(ctx, denseDispatch(m, n, k, undefined, ctx.caps, true), [r, w, m * k]);
    assertGradient((ww) => L(f64(x), ww, f64(b)), w, gW, 1e-4, 'dW');
    assertGradient((bb) => L(f64(x), f64(w), bb), b, gb, 1e-4, 'db');
    assertGradient((xx) => L(xx, f64(w), f64(b)), x, gx, 1e-4, 'dx');
    // And the forward pass itself (with the ReLU the hidden layers fuse).
    const [, , , y] = await runKernel(ctx, denseDispatch(m, k, n, { kind: 'relu' }, ctx.caps), [x, w, b, m * n]);
    assertClose(
      y,
      refDense(f64(x), m, layer(f64(w), f64(b))).map((v) => Math.max(v, 0)),
      1e-5,
      'y',
      'normalized',
    );
  });
});

test('relu-backward against finite differences of relu (no input within 1e-3 of the kink)', async () => {
  const ctx = await gpu();
  const n = 1000;
  const x = randomArray(n, 1).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v)),
    r = randomArray(n, 2);
  const relu = x.map((v) => Math.max(v, 0));
  const [, , got] = await runKernel(ctx, reluBackwardDispatch(n, ctx.caps), [relu, r, n]);
  assertGradient(
    (xx) =>
      dot(
        xx.map((v) => Math.max(v, 0)),
        r,
      ),
    x,
    got,
    1e-6,
    'relu dx',
  );
});

[0.1, 0.5, 0.9].forEach((rate, c) => {
  test(`dropout ${rate}: keeps ≈ ${1 - rate} of the values, scaled by 1/(1 − rate); backward by FD`, async () => {
    const ctx = await gpu();
    const n = 20000,
      seed = 12345 + c;
    const x = randomArray(n, 3 + c),
      r = randomArray(n, 6 + c);
    const mask = keepMask(n, seed, rate);
    const forward = (xx: ArrayLike<number>) => Float64Array.from(xx, (v, i) => (mask[i] ? v / (1 - rate) : 0));
    const [, y] = await runKernel(ctx, dropoutDispatch(n, rate, seed, ctx.caps), [x, n]);
    assertClose(y, forward(x), 1e-6, 'dropout forward', 'normalized');
    const kept = mask.reduce((s, v) => s + v, 0) / n;
    assert.ok(Math.abs(kept - (1 - rate)) < 0.015, `kept ${kept}, expected ≈ ${1 - rate}`);
    const [, dgot] = await runKernel(ctx, dropoutDispatch(n, rate, seed, ctx.caps), [r, n]);
    assertGradient((xx) => dot(forward(xx), r), x, dgot, 1e-5, 'dropout backward');
    assertClose(dgot, forward(r), 1e-6, 'dropout backward, everywhere', 'normalized');
    // Another seed, another mask.
    const [, other] = await runKernel(ctx, dropoutDispatch(n, rate, seed + 1, ctx.caps), [x, n]);
    assert.ok(other.some((v, i) => (v === 0) !== (y[i] === 0)));
  });
});

(['softmax', 'sigmoid'] as const).forEach((mode) => {
  [
    [1, 2],
    [5, 3],
    [70, 10],
  ].forEach(([m, n]) => {
    test(`softmax-xent ${mode} ${m}×${n}: losses, correctness, dz by differences of the mean loss`, async () => {
      const ctx = await gpu();
      const z = randomArray(m * n, m + n).map((v) => 4 * v);
      const t = new Float32Array(m * n);
      const next = randomArray(m * n, 99);
      for (let i = 0; i < m; i++) {
        if (mode === 'softmax') t[i * n + (Math.floor(((next[i] + 1) / 2) * n) % n)] = 1;
        else for (let j = 0; j < n; j++) t[i * n + j] = next[i * n + j] > 0 ? 1 : 0;
      }
      const offset = 3;
      const [, , stats, dz] = await runKernel(ctx, lossDispatch(m, n, offset, mode, true, ctx.caps), [
        z,
        t,
        2 * (m + offset),
        m * n,
      ]);
      const ref = refLoss(f64(z), t, m, n, mode);
      const mean = (zz: Float64Array) => refLoss(zz, t, m, n, mode).loss.reduce((s, v) => s + v, 0) / m;
      assertGradient(mean, z, dz, 1e-6, 'dz');
      assertClose(dz, ref.grad, 1e-6, 'dz (closed form)', 'normalized');
      const loss = Array.from({ length: m }, (_, i) => stats[2 * (offset + i)]);
      const correct = Array.from({ length: m }, (_, i) => stats[2 * (offset + i) + 1]);
      assertClose(loss, ref.loss, 1e-5, 'loss per row', 'normalized');
      assertClose(correct, ref.correct, 1e-6, 'correct per row');
    });
  });
});

test('gather-rows picks the rows of the order from the offset', async () => {
  const ctx = await gpu();
  const rows = 9,
    n = 5,
    m = 4,
    offset = 3;
  const x = randomArray(rows * n, 7);
  const order = Uint32Array.from([8, 0, 4, 2, 7, 1, 6, 3, 5]);
  const [, , y] = await runKernel(ctx, gatherDispatch(m, n, offset, ctx.caps), [x, order, m * n]);
  const want = Array.from({ length: m * n }, (_, t) => x[order[offset + Math.floor(t / n)] * n + (t % n)]);
  assert.equal(Array.from(y), want);
});

const OPTIMIZERS = [
  { kind: 'sgd', lr: 0.1 },
  { kind: 'sgd', lr: 0.05, momentum: 0.9 },
  { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true },
  { kind: 'adam', lr: 0.01 },
  { kind: 'rmsprop', lr: 0.01 },
] as const;

OPTIMIZERS.forEach((o) => {
  const name = `${o.kind}${'momentum' in o ? ` momentum ${o.momentum}` : ''}${'nesterov' in o ? ' nesterov' : ''}`;
  test(`${name}: 5 steps against Keras 3's formulas`, async () => {
    const ctx = await gpu();
    const total = 333;
    const config = resolveOptimizer({
      kind: o.kind,
      learningRate: o.lr,
      momentum: 'momentum' in o ? o.momentum : 0,
      nesterov: 'nesterov' in o,
    });
    let w: Float32Array = randomArray(total, 1),
      s0: Float32Array = new Float32Array(total),
      s1: Float32Array = new Float32Array(total);
    const rw = f64(w),
      rs = [new Float64Array(total), new Float64Array(total)];
    for (let step = 1; step <= 5; step++) {
      const g = randomArray(total, 100 + step);
      const d = optimizerDispatch(config, total, step, ctx.caps);
      const out = await runKernel(ctx, d, o.kind === 'adam' ? [g, w, s0, s1] : [g, w, s0]);
      [w, s0, s1] = [out[1], out[2], out[3] ?? s1];
      refUpdate(o, rw, f64(g), rs, step);
    }
    assertClose(w, rw, 2e-6, `${o.kind} weights`, 'normalized');
  });
});

test.run();
