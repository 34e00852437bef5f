// Naive float64 CPU references, written from the definitions (TensorFlow's and Darknet's padding
// rules included) and independent of the kernels' tiling and of src/ops' shape helpers.

export type F64 = Float64Array;
export const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/** erf by its Maclaurin series (|v| < 3) or its asymptotic complement: float64, independent of the shader's. */
function erf(v: number): number {
  const x = Math.abs(v);
  let r: number;
  if (x < 3) {
    let term = x,
      sum = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(x) ≈ e^{-x²}/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶)).
    const x2 = x * x;
    r = 1 - (Math.exp(-x2) / (x * Math.sqrt(Math.PI))) * (1 - 1 / (2 * x2) + 3 / (4 * x2 * x2) - 15 / (8 * x2 ** 3));
  }
  return Math.sign(v) * r;
}

export function refActivation(kind: string, v: number, a = 0, b = Infinity): number {
  const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
  const softplus = (t: number) => Math.log1p(Math.exp(t));
  switch (kind) {
    case 'linear':
      return v;
    case 'relu':
      return Math.min(v >= 0 ? v : a * v, b);
    case 'relu6':
      return Math.min(Math.max(v, 0), 6);
    case 'leaky':
      return v >= 0 ? v : a * v;
    case 'sigmoid':
      return sigmoid(v);
    case 'tanh':
      return Math.tanh(v);
    case 'elu':
      return v > 0 ? v : a * (Math.exp(v) - 1);
    case 'selu':
      return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1));
    case 'softplus':
      return softplus(v);
    case 'softsign':
      return v / (1 + Math.abs(v));
    case 'hard_sigmoid':
      return Math.min(1, Math.max(0, 0.2 * v + 0.5));
    case 'mish':
      return v * Math.tanh(softplus(v));
    case 'swish':
      return v * sigmoid(v);
    case 'thresholded_relu':
      return v > a ? v : 0;
    case 'gelu':
      return 0.5 * v * (1 + erf(v / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    case 'hard_swish':
      return (v * Math.min(Math.max(v + 3, 0), 6)) / 6;
    case 'hard_mish':
      return v > 0 ? v : v > -2 ? (v * v) / 2 + v : 0;
    case 'celu':
      return Math.max(v, 0) + Math.min(0, a * (Math.exp(v / a) - 1));
    case 'exponential':
      return Math.exp(v);
    case 'log_sigmoid':
      return -softplus(-v);
    case 'hard_tanh':
      return Math.min(1, Math.max(-1, v));
    default:
      throw new Error(`reference: unknown activation ${kind}`);
  }
}

/** Pads per side of one axis: TF 'same', 'valid', or explicit. */
function axisPads(size: number, k: number, s: number, d: number, padding: 'same' | 'valid' | [number, number]) {
  const eff = d * (k - 1) + 1;
  if (padding === 'valid') return { before: 0, out: Math.floor((size - eff) / s) + 1 };
  if (padding === 'same') {
    const out = Math.ceil(size / s);
    const need = Math.max(0, (out - 1) * s + eff - size);
    return { before: Math.floor(need / 2), out };
  }
  return { before: padding[0], out: Math.floor((size + padding[0] + padding[1] - eff) / s) + 1 };
}

export interface RefConv {
  x: ArrayLike<number>;
  xShape: number[]; // NHWC
  w: ArrayLike<number>;
  wShape: number[]; // HWIO, I = c / groups
  b?: ArrayLike<number>;
  strides?: [number, number];
  dilations?: [number, number];
  padding?: 'same' | 'valid' | [number, number, number, number];
  groups?: number;
  act?: (v: number) => number;
}

export function refConv2d(p: RefConv): { y: F64; shape: number[] } {
  const [n, h, w, c] = p.xShape;
  const [kh, kw, cg, oc] = p.wShape;
  const [sh, sw] = p.strides ?? [1, 1];
  const [dh, dw] = p.dilations ?? [1, 1];
  const g = p.groups ?? 1;
  const padding = p.padding ?? 'valid';
  const py = axisPads(h, kh, sh, dh, typeof padding === 'string' ? padding : [padding[0], padding[1]]);
  const px = axisPads(w, kw, sw, dw, typeof padding === 'string' ? padding : [padding[2], padding[3]]);
  const ocg = oc / g;
  const y = new Float64Array(n * py.out * px.out * oc);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < py.out; oy++)
      for (let ox = 0; ox < px.out; ox++)
        for (let o = 0; o < oc; o++) {
          const grp = Math.floor(o / ocg);
          let acc = p.b ? p.b[o] : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - py.before + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - px.before + kx * dw;
              if (ix < 0 || ix >= w) continue;
              for (let i = 0; i < cg; i++) {
                acc += p.x[((b * h + iy) * w + ix) * c + grp * cg + i] * p.w[((ky * kw + kx) * cg + i) * oc + o];
              }
            }
          }
          y[((b * py.out + oy) * px.out + ox) * oc + o] = p.act ? p.act(acc) : acc;
        }
  return { y, shape: [n, py.out, px.out, oc] };
}

export function refGemm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  transB = false,
  bias?: ArrayLike<number>,
  act?: (v: number) => number,
): F64 {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let acc = bias ? bias[j] : 0;
      for (let p = 0; p < k; p++) acc += a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = act ? act(acc) : acc;
    }
  return c;
}

export type RefPoolPadding = 'same' | 'valid' | 'darknet' | [number, number, number, number];

export function refPool2d(
  x: ArrayLike<number>,
  xShape: number[],
  kind: 'max' | 'avg',
  size: [number, number],
  strides: [number, number],
  padding: RefPoolPadding,
): { y: F64; shape: number[] } {
  const [n, h, w, c] = xShape;
  let oh: number, ow: number, top: number, left: number;
  if (padding === 'darknet') {
    // maxpool_layer.c: out = (in + pad - size)/stride + 1, window origin i*stride - pad/2, pad = size - 1.
    const padY = size[0] - 1,
      padX = size[1] - 1;
    oh = Math.floor((h + padY - size[0]) / strides[0]) + 1;
    ow = Math.floor((w + padX - size[1]) / strides[1]) + 1;
    top = Math.floor(padY / 2);
    left = Math.floor(padX / 2);
  } else {
    const py = axisPads(h, size[0], strides[0], 1, typeof padding === 'string' ? padding : [padding[0], padding[1]]);
    const px = axisPads(w, size[1], strides[1], 1, typeof padding === 'string' ? padding : [padding[2], padding[3]]);
    [oh, ow, top, left] = [py.out, px.out, py.before, px.before];
  }
  const y = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity,
            sum = 0,
            count = 0;
          for (let ky = 0; ky < size[0]; ky++)
            for (let kx = 0; kx < size[1]; kx++) {
              const iy = oy * strides[0] - top + ky,
                ix = ox * strides[1] - left + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x[((b * h + iy) * w + ix) * c + ch];
              best = Math.max(best, v);
              sum += v;
              count++;
            }
          y[((b * oh + oy) * ow + ox) * c + ch] = count === 0 ? 0 : kind === 'max' ? best : sum / count;
        }
  return { y, shape: [n, oh, ow, c] };
}

export function refGlobalPool(x: ArrayLike<number>, [n, h, w, c]: number[], kind: 'max' | 'avg'): F64 {
  const y = new Float64Array(n * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let best = -Infinity,
        sum = 0;
      for (let i = 0; i < h * w; i++) {
        const v = x[(b * h * w + i) * c + ch];
        best = Math.max(best, v);
        sum += v;
      }
      y[b * c + ch] = kind === 'max' ? best : sum / (h * w);
    }
  return y;
}

export function refBatchNorm(
  x: ArrayLike<number>,
  shape: number[],
  axis: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  eps: number,
): F64 {
  const ax = axis < 0 ? shape.length + axis : axis;
  const inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / inner) % shape[ax];
    y[i] = ((x[i] - mean[ch]) / Math.sqrt(variance[ch] + eps)) * gamma[ch] + beta[ch];
  }
  return y;
}

export function refSoftmax(x: ArrayLike<number>, cols: number): F64 {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    let top = -Infinity;
    for (let i = 0; i < cols; i++) top = Math.max(top, x[r * cols + i]);
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += y[r * cols + i] = Math.exp(x[r * cols + i] - top);
    for (let i = 0; i < cols; i++) y[r * cols + i] /= sum;
  }
  return y;
}

/** Generic strided permutation, used for transposes, concat and upsample checks. */
export function refTranspose(x: ArrayLike<number>, shape: number[], perm: number[]): F64 {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const y = new Float64Array(x.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < y.length; o++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * strides[perm[d]];
    y[o] = x[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return y;
}

export function refConcat(parts: { x: ArrayLike<number>; shape: number[] }[], axis: number): F64 {
  const rank = parts[0].shape.length;
  const ax = axis < 0 ? rank + axis : axis;
  const outer = parts[0].shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const p of parts) {
      const slab = p.shape.slice(ax).reduce((a, b) => a * b, 1);
      for (let i = 0; i < slab; i++) out.push(p.x[o * slab + i]);
    }
  return Float64Array.from(out);
}

export function refUpsample(x: ArrayLike<number>, [n, h, w, c]: number[], fh: number, fw: number): F64 {
  const y = new Float64Array(n * h * fh * w * fw * c);
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < h * fh; oy++)
      for (let ox = 0; ox < w * fw; ox++)
        for (let ch = 0; ch < c; ch++) y[o++] = x[((b * h + Math.floor(oy / fh)) * w + Math.floor(ox / fw)) * c + ch];
  return y;
}

export function refPad(x: ArrayLike<number>, [n, h, w, c]: number[], [t, btm, l, r]: number[]): F64 {
  const oh = h + t + btm,
    ow = w + l + r;
  const y = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++)
        for (let ch = 0; ch < c; ch++)
          y[((b * oh + iy + t) * ow + ix + l) * c + ch] = x[((b * h + iy) * w + ix) * c + ch];
  return y;
}
