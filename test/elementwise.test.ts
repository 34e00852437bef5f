import { suite } from 'uvu';
import * as ops from '../src/eager.js';
import type { BinaryOp } from '../src/ops/elementwise.js';
import type { Activation } from '../src/ops/activation.js';
import { foldBatchNorm } from '../src/ops/batchnorm.js';
import type { Tensor } from '../src/tensor.js';
import { assertClose, prod, randomArray, rejects, take, upload, withGpu } from './harness.js';
import { refActivation, refBatchNorm, refConv2d, refSoftmax } from './reference.js';

const test = suite('elementwise');
const gpu = withGpu(test);

const ACTS: [Activation, number, number][] = [
  [{ kind: 'linear' }, 0, Infinity],
  [{ kind: 'relu' }, 0, Infinity],
  [{ kind: 'relu6' }, 0, 6],
  [{ kind: 'leaky', alpha: 0.1 }, 0.1, Infinity],
  [{ kind: 'sigmoid' }, 0, 0],
  [{ kind: 'tanh' }, 0, 0],
  [{ kind: 'elu', alpha: 1.1 }, 1.1, 0],
  [{ kind: 'selu' }, 0, 0],
  [{ kind: 'softplus' }, 0, 0],
  [{ kind: 'softsign' }, 0, 0],
  [{ kind: 'hard_sigmoid' }, 0, 0],
  [{ kind: 'mish' }, 0, 0],
  [{ kind: 'swish' }, 0, 0],
  [{ kind: 'thresholded_relu', theta: 0.9 }, 0.9, 0],
  [{ kind: 'gelu' }, 0, 0],
  [{ kind: 'gelu', approximate: true }, 0, 0],
  [{ kind: 'hard_swish' }, 0, 0],
  [{ kind: 'hard_mish' }, 0, 0],
  [{ kind: 'celu', alpha: 1.3 }, 1.3, 0],
  [{ kind: 'log_sigmoid' }, 0, 0],
  [{ kind: 'hard_tanh' }, 0, 0],
];

// 1000 values run by quads (activation-vec4), 999 one by one (activation).
for (const [act, a, b] of ACTS) {
  test(`activation ${act.kind}${act.kind === 'gelu' && act.approximate ? ' (tanh)' : ''}`, async () => {
    const ctx = await gpu();
    for (const shape of [
      [10, 100],
      [27, 37],
    ]) {
      // Wide range, including values that overflow exp() in f32.
      const x = randomArray(prod(shape), 3, -12, 12);
      x.set([0, -0, 100, -100, 89, -89, 6, -6, 1e-8]);
      const kind = act.kind === 'gelu' && act.approximate ? 'gelu_tanh' : act.kind;
      const ref = Float64Array.from(x, (v) => refActivation(kind, v, a, b));
      const got = await take(await ops.activation(upload(ctx, x, shape), act));
      assertClose(got, ref, 2e-6, `${act.kind} [${shape}]`, 'normalized');
    }
  });
}

test('relu with max_value and negative slope (Keras relu(alpha, max_value))', async () => {
  const ctx = await gpu();
  const x = randomArray(300, 4, -3, 3);
  const got = await take(
    await ops.activation(upload(ctx, x, [300]), { kind: 'relu', maxValue: 0.5, negativeSlope: 0.3 }),
  );
  assertClose(
    got,
    Float64Array.from(x, (v) => refActivation('relu', v, 0.3, 0.5)),
    1e-7,
    'relu(0.3, 0.5)',
  );
});

for (const [shape, axis] of [
  [[2, 5, 6, 7], -1],
  [[1, 4, 5, 3], 1],
  [[3, 4, 5, 6], 2],
  [[1, 2, 3, 64], 3],
] as [number[], number][]) {
  for (const [center, scale] of [
    [true, true],
    [false, true],
    [true, false],
    [false, false],
  ]) {
    test(`batchnorm [${shape}] axis ${axis} center=${center} scale=${scale}`, async () => {
      const ctx = await gpu();
      const c = shape[axis < 0 ? shape.length + axis : axis];
      const x = randomArray(prod(shape), 10, -3, 3);
      const gamma = randomArray(c, 11, 0.5, 2),
        beta = randomArray(c, 12),
        mean = randomArray(c, 13),
        variance = randomArray(c, 14, 0.01, 2);
      const got = await take(
        await ops.batchNorm(
          upload(ctx, x, shape),
          {
            gamma: scale ? gamma : undefined,
            beta: center ? beta : undefined,
            mean,
            variance,
            epsilon: 1e-3,
          },
          axis,
        ),
      );
      const ref = refBatchNorm(
        x,
        shape,
        axis,
        scale ? gamma : new Float32Array(c).fill(1),
        center ? beta : new Float32Array(c),
        mean,
        variance,
        1e-3,
      );
      assertClose(got, ref, 2e-6, 'batchnorm', 'normalized');
    });
  }
}

test('foldBatchNorm(conv) equals batchnorm(conv(x)) (pure, float64)', () => {
  const xShape = [1, 6, 6, 3],
    wShape = [3, 3, 3, 5];
  const x = randomArray(prod(xShape), 20),
    w = randomArray(prod(wShape), 21),
    b = randomArray(5, 22);
  const bn = {
    gamma: randomArray(5, 23, 0.5, 2),
    beta: randomArray(5, 24),
    mean: randomArray(5, 25),
    variance: randomArray(5, 26, 0.1, 2),
    epsilon: 1e-5,
  };
  const conv = refConv2d({ x, xShape, w, wShape, b, padding: 'same' });
  const expected = refBatchNorm(conv.y, conv.shape, -1, bn.gamma, bn.beta, bn.mean, bn.variance, bn.epsilon);
  const folded = foldBatchNorm(w, b, bn);
  const got = refConv2d({ x, xShape, w: folded.weights, wShape, b: folded.bias, padding: 'same' });
  assertClose(got.y, expected, 1e-5, 'folded', 'normalized');
});

test('folded batchnorm on the GPU conv matches conv → batchnorm → leaky', async () => {
  const ctx = await gpu();
  const xShape = [1, 9, 9, 8],
    wShape = [3, 3, 8, 16];
  const x = randomArray(prod(xShape), 30),
    w = randomArray(prod(wShape), 31);
  const bn = {
    gamma: randomArray(16, 33, 0.5, 2),
    beta: randomArray(16, 34),
    mean: randomArray(16, 35),
    variance: randomArray(16, 36, 0.1, 2),
    epsilon: 1e-5,
  };
  const conv = refConv2d({ x, xShape, w, wShape, padding: 'same' });
  const expected = refBatchNorm(conv.y, conv.shape, -1, bn.gamma, bn.beta, bn.mean, bn.variance, bn.epsilon).map((v) =>
    refActivation('leaky', v, 0.1),
  );
  const folded = foldBatchNorm(w, undefined, bn);
  const got = await take(
    await ops.conv2d(upload(ctx, x, xShape), upload(ctx, folded.weights, wShape), upload(ctx, folded.bias, [16]), {
      padding: 'same',
      activation: { kind: 'leaky', alpha: 0.1 },
    }),
  );
  assertClose(got, expected, 2e-5, 'conv+bn+leaky', 'normalized');
});

test('residual add with fused activation, per-channel and scalar broadcast, multiply, PReLU', async () => {
  const ctx = await gpu();
  const shape = [3, 5, 4, 17];
  const a = randomArray(prod(shape), 40),
    b = randomArray(prod(shape), 41),
    ch = randomArray(17, 42),
    s = [0.25];
  const at = upload(ctx, a, shape);
  const cases: [string, Promise<Tensor>, (i: number) => number][] = [
    [
      'add+leaky',
      ops.add(at, upload(ctx, b, shape), { kind: 'leaky', alpha: 0.1 }),
      (i) => refActivation('leaky', a[i] + b[i], 0.1),
    ],
    ['add per-channel', ops.add(at, upload(ctx, ch, [17])), (i) => a[i] + ch[i % 17]],
    ['mul scalar', ops.binary('mul', at, upload(ctx, s, [1])), (i) => a[i] * 0.25],
    [
      'prelu per-channel',
      ops.binary('prelu', at, upload(ctx, ch, [17])),
      (i) => (a[i] >= 0 ? a[i] : ch[i % 17] * a[i]),
    ],
  ];
  for (const [name, pending, f] of cases) {
    const got = await take(await pending);
    assertClose(
      got,
      Float64Array.from(got, (_, i) => f(i)),
      1e-6,
      name,
    );
  }
});

/** A float64 broadcast reference written independently of the kernel's dim merging: by 4-D coordinates. */
function refBroadcast(
  a: Float32Array,
  as: number[],
  b: Float32Array,
  bs: number[],
  f: (x: number, y: number) => number,
) {
  const rank = Math.max(as.length, bs.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(as), pad(bs)];
  const out = pa.map((d, i) => Math.max(d, pb[i]));
  const total = out.reduce((x, y) => x * y, 1);
  const index = (shape: number[], coords: number[]) =>
    coords.reduce((acc, c, i) => acc * shape[i] + (shape[i] === 1 ? 0 : c), 0);
  const y = new Float64Array(total);
  for (let flat = 0; flat < total; flat++) {
    const coords: number[] = [];
    let r = flat;
    for (let i = rank - 1; i >= 0; i--) {
      coords[i] = r % out[i];
      r = Math.floor(r / out[i]);
    }
    y[flat] = f(a[index(pa, coords)], b[index(pb, coords)]);
  }
  return { y, out };
}

test('binary ops broadcast like NumPy: squeeze-and-excite scale both ways, per-pixel, rank 5, every op', async () => {
  const ctx = await gpu();
  const F: Record<BinaryOp, (x: number, y: number) => number> = {
    add: (x, y) => x + y,
    mul: (x, y) => x * y,
    sub: (x, y) => x - y,
    max: Math.max,
    min: Math.min,
    div: (x, y) => x / y,
    prelu: (x, y) => (x >= 0 ? x : y * x),
  };
  const cases: [BinaryOp, number[], number[]][] = [
    ['mul', [2, 5, 3, 8], [2, 1, 1, 8]],
    ['mul', [2, 1, 1, 8], [2, 5, 3, 8]],
    ['mul', [2, 5, 3, 1], [2, 5, 3, 8]],
    ['sub', [3, 4, 6], [4, 1]],
    ['max', [2, 3, 1, 5, 4], [1, 3, 2, 1, 4]],
    ['min', [7], [3, 1]],
    ['div', [2, 4, 4, 3], [3]],
    ['prelu', [2, 4, 5, 6], [1, 1, 6]],
    ['add', [2, 6, 6, 4], [2, 6, 6, 4]],
  ];
  let seed = 60;
  for (const [op, as, bs] of cases) {
    const a = randomArray(prod(as), seed++),
      b = op === 'div' ? randomArray(prod(bs), seed++, 0.5, 2) : randomArray(prod(bs), seed++);
    const ref = refBroadcast(a, as, b, bs, F[op]);
    const y = await ops.binary(op, upload(ctx, a, as), upload(ctx, b, bs));
    if (y.shape.join() !== ref.out.join())
      throw new Error(`${op} [${as}] ∘ [${bs}]: shape [${y.shape}], expected [${ref.out}]`);
    assertClose(await take(y), ref.y, 1e-6, `${op} [${as}] ∘ [${bs}]`);
  }
  await rejects(
    () => ops.binary('mul', upload(ctx, randomArray(6, 1), [2, 3]), upload(ctx, randomArray(4, 2), [4])),
    /do not broadcast/,
  );
});

test('softmax over the last axis is stable for large logits', async () => {
  const ctx = await gpu();
  const x = randomArray(4 * 1000, 50, -20, 20);
  x[7] = 1000;
  x[1500] = -1000;
  x[2500] = 88.8;
  const got = await take(await ops.softmax(upload(ctx, x, [4, 1000])));
  assertClose(got, refSoftmax(x, 1000), 1e-6, 'softmax');
  if (got.some((v) => !Number.isFinite(v))) throw new Error('softmax produced a non-finite value');
});

test.run();
