// The backward kernels of a convolutional block against float64 central differences of float64
// forward passes written here (convolution NHWC/HWIO with TensorFlow's padding, max pooling, global
// pooling): the gradient of L = Σ r·f(x) for a random upstream r, at probe points of x and of the kernel.
import { suite } from 'uvu';
import type { GpuContext } from '../src/gpu/context.js';
import type { Dispatch } from '../src/gpu/dispatch.js';
import {
  convBackwardInputDispatch,
  convBackwardWeightDispatch,
  globalPoolBackwardDispatch,
  maxPoolBackwardDispatch,
} from '../src/train/conv-kernels.js';
import { bindSlices } from '../src/train/program.js';
import { assertClose, randomArray, withGpu } from './harness.js';
import { axis, refConv, refMaxPool, type Conv } from './train-reference.js';

const test = suite('train-conv');
const gpu = withGpu(test);

async function run(ctx: GpuContext, d: Dispatch, inputs: Float32Array[], outFloats: number): Promise<Float32Array> {
  const bufs = inputs.map((a) => ctx.upload(a, 'test input'));
  const out = ctx.createBuffer(4 * outFloats, 'test output');
  try {
    await ctx.run([{ dispatch: d, buffers: bindSlices(d, bufs, out) }]);
    return await ctx.readBuffer(out, 4 * outFloats);
  } finally {
    [...bufs, out].forEach((b) => ctx.destroyBuffer(b));
  }
}

const probes = (n: number) => [...new Set(Array.from({ length: 40 }, (_, i) => Math.floor(((i + 0.5) * n) / 40)))];
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Central differences of f at x at the probes, against the kernel's gradient there. */
function checkGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  got: ArrayLike<number>,
  tol: number,
  label: string,
) {
  const v = Float64Array.from(x),
    at = probes(v.length),
    h = 1e-5;
  const numeric = at.map((i) => {
    const x0 = v[i];
    v[i] = x0 + h;
    const up = f(v);
    v[i] = x0 - h;
    const down = f(v);
    v[i] = x0;
    return (up - down) / (2 * h);
  });
  assertClose(
    at.map((i) => got[i]),
    numeric,
    tol,
    label,
    'normalized',
  );
}

const CONVS: Conv[] = [
  { n: 2, h: 5, w: 6, c: 3, kh: 3, kw: 3, oc: 4, s: 1, d: 1, same: true },
  { n: 1, h: 7, w: 7, c: 5, kh: 3, kw: 2, oc: 6, s: 2, d: 1, same: true },
  { n: 2, h: 8, w: 6, c: 2, kh: 3, kw: 3, oc: 3, s: 1, d: 2, same: false },
  { n: 3, h: 6, w: 5, c: 4, kh: 1, kw: 1, oc: 5, s: 2, d: 1, same: false },
];

CONVS.forEach((g, i) => {
  const mode = g.same ? 'same' : 'valid';
  test(`conv ${g.kh}×${g.kw} stride ${g.s} dilation ${g.d} ${mode}: dx and dw by differences`, async () => {
    const ctx = await gpu();
    const x = randomArray(g.n * g.h * g.w * g.c, 10 + i),
      k = randomArray(g.kh * g.kw * g.c * g.oc, 20 + i);
    const [oh] = axis(g.h, g.kh, g.s, g.d, g.same),
      [ow] = axis(g.w, g.kw, g.s, g.d, g.same);
    const r = randomArray(g.n * oh * ow * g.oc, 30 + i);
    const geometry = {
      input: [g.n, g.h, g.w, g.c] as const,
      kernel: [g.kh, g.kw, g.c, g.oc] as const,
      strides: [g.s, g.s] as const,
      dilations: [g.d, g.d] as const,
      padding: g.same ? ('same' as const) : ('valid' as const),
    };
    const dx = await run(ctx, convBackwardInputDispatch(geometry, ctx.caps), [r, k], x.length);
    const dw = await run(ctx, convBackwardWeightDispatch(geometry, ctx.caps), [x, r], k.length);
    checkGradient((xx) => dot(refConv(xx, Float64Array.from(k), g), r), x, dx, 1e-5, 'dx');
    checkGradient((kk) => dot(refConv(Float64Array.from(x), kk, g), r), k, dw, 1e-5, 'dw');
  });
});

(
  [
    [2, 2, false],
    [3, 2, true],
    [3, 1, true],
    [2, 3, false],
  ] as const
).forEach(([k, s, same], i) => {
  const mode = same ? 'same' : 'valid';
  test(`max pool ${k}×${k} stride ${s} ${mode} (overlapping windows included): dx by differences`, async () => {
    const ctx = await gpu();
    const shape = [2, 7, 6, 3];
    const x = randomArray(
      shape.reduce((a, b) => a * b),
      40 + i,
    );
    const [oh] = axis(7, k, s, 1, same),
      [ow] = axis(6, k, s, 1, same);
    const r = randomArray(2 * oh * ow * 3, 50 + i);
    const d = maxPoolBackwardDispatch([2, 7, 6, 3], [k, k], [s, s], same ? 'same' : 'valid', ctx.caps);
    const dx = await run(ctx, d, [x, r], x.length);
    checkGradient((xx) => dot(refMaxPool(xx, shape, k, s, same), r), x, dx, 1e-5, 'max pool dx');
  });
});

(['avg', 'max'] as const).forEach((pooling) => {
  test(`global ${pooling} pooling: dx by differences`, async () => {
    const ctx = await gpu();
    const [n, h, w, c] = [3, 4, 5, 6];
    const x = randomArray(n * h * w * c, 60),
      r = randomArray(n * c, 61);
    const pool = (xx: Float64Array) => {
      const y = new Float64Array(n * c).fill(pooling === 'max' ? -Infinity : 0);
      for (let b = 0; b < n; b++)
        for (let p = 0; p < h * w; p++)
          for (let ch = 0; ch < c; ch++) {
            const v = xx[(b * h * w + p) * c + ch];
            y[b * c + ch] = pooling === 'max' ? Math.max(y[b * c + ch], v) : y[b * c + ch] + v / (h * w);
          }
      return y;
    };
    const dx = await run(ctx, globalPoolBackwardDispatch([n, h, w, c], pooling, ctx.caps), [x, r], x.length);
    checkGradient((xx) => dot(pool(xx), r), x, dx, 1e-5, `global ${pooling} dx`);
  });
});

test.run();
