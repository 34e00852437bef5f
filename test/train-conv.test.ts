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

/** TensorFlow's padding along one axis: [out, before]. */
function axis(size: number, k: number, s: number, d: number, same: boolean): [number, number] {
  const span = (k - 1) * d + 1;
  if (!same) return [Math.floor((size - span) / s) + 1, 0];
  const out = Math.ceil(size / s);
  return [out, Math.floor(Math.max((out - 1) * s + span - size, 0) / 2)];
}

interface Conv {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  oc: number;
  s: number;
  d: number;
  same: boolean;
}

function refConv(x: Float64Array, k: Float64Array, g: Conv): Float64Array {
  const [oh, pt] = axis(g.h, g.kh, g.s, g.d, g.same),
    [ow, pl] = axis(g.w, g.kw, g.s, g.d, g.same);
  const y = new Float64Array(g.n * oh * ow * g.oc);
  for (let n = 0; n < g.n; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < g.oc; o++) {
          let s = 0;
          for (let i = 0; i < g.kh; i++)
            for (let j = 0; j < g.kw; j++) {
              const yy = oy * g.s + i * g.d - pt,
                xx = ox * g.s + j * g.d - pl;
              if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
              for (let c = 0; c < g.c; c++)
                s += x[((n * g.h + yy) * g.w + xx) * g.c + c] * k[((i * g.kw + j) * g.c + c) * g.oc + o];
            }
          y[((n * oh + oy) * ow + ox) * g.oc + o] = s;
        }
      }
  return y;
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
  test(`conv ${g.kh}×${g.kw} stride ${g.s} dilation ${g.d} ${g.same ? 'same' : 'valid'}: dx and dw by differences`, async () => {
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

function refMaxPool(x: Float64Array, [n, h, w, c]: number[], k: number, s: number, same: boolean): Float64Array {
  const [oh, pt] = axis(h, k, s, 1, same),
    [ow, pl] = axis(w, k, s, 1, same);
  const y = new Float64Array(n * oh * ow * c).fill(-Infinity);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const yy = oy * s + i - pt,
                xx = ox * s + j - pl;
              if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                const at = ((b * oh + oy) * ow + ox) * c + ch;
                y[at] = Math.max(y[at], x[((b * h + yy) * w + xx) * c + ch]);
              }
            }
        }
  return y;
}

(
  [
    [2, 2, false],
    [3, 2, true],
    [3, 1, true],
    [2, 3, false],
  ] as const
).forEach(([k, s, same], i) => {
  test(`max pool ${k}×${k} stride ${s} ${same ? 'same' : 'valid'} (overlapping windows included): dx by differences`, async () => {
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
