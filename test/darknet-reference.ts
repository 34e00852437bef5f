// An independent float64 forward pass of a Darknet network, written from AlexeyAB's layer code as
// test/fixtures/darknet-zoo/SECTIONS.md describes it: NCHW, one image, reading the weights file itself in
// file order, with its own cfg reader (darknet-writer.ts's readDarknetCfg) and nothing from src/. Slow (plain
// loops): tests run it on reduced inputs or reduced cfgs.
import { readDarknetCfg } from './darknet-writer.js';

/** One layer's output, NCHW (c, h, w); [region] outputs are location-major (h, w, num, 5+classes). */
export interface RefTensor {
  c: number;
  h: number;
  w: number;
  d: Float64Array;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const softplus = (v: number) => (v > 20 ? v : v < -20 ? Math.exp(v) : Math.log1p(Math.exp(v)));

/** Darknet's activations by name (activations.h; relu6 as its GPU build has it). */
export function refActivate(v: number, name: string): number {
  switch (name) {
    case 'linear':
      return v;
    case 'logistic':
      return sigmoid(v);
    case 'leaky':
    case 'revleaky':
      return v > 0 ? v : 0.1 * v;
    case 'relie':
      return v > 0 ? v : 0.01 * v;
    case 'relu':
      return v > 0 ? v : 0;
    case 'relu6':
      return Math.min(Math.max(v, 0), 6);
    case 'tanh':
      return Math.tanh(v);
    case 'elu':
      return v >= 0 ? v : Math.exp(v) - 1;
    case 'mish':
      return v * Math.tanh(softplus(v));
    case 'swish':
      return v * sigmoid(v);
    case 'hard_mish':
      return v > 0 ? v : v > -2 ? (v * v) / 2 + v : 0;
    case 'gelu':
      return 0.5 * v * (1 + Math.tanh(0.797885 * v + 0.035677 * v * v * v));
    default:
      throw new Error(`reference: activation ${name}`);
  }
}

const int = (o: Record<string, string>, k: string, d: number) => (k in o ? parseInt(o[k], 10) || 0 : d);
const float = (o: Record<string, string>, k: string, d: number) => (k in o ? parseFloat(o[k]) || 0 : d);
const list = (s: string) =>
  s
    .split(',')
    .filter((x) => x !== '')
    .map(Number);

/** Darknet's forward pass in float64 over `x` (CHW, 0…1, h0 × w0); returns every layer's output. */
export function referenceForward(
  cfgText: string,
  weights: Uint8Array,
  x: Float64Array,
  [h0, w0]: [number, number],
): RefTensor[] {
  const { layers } = readDarknetCfg(cfgText);
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const major = view.getInt32(0, true),
    minor = view.getInt32(4, true);
  let at = major * 10 + minor >= 2 ? 20 : 16;
  const take = (n: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++, at += 4) out[i] = view.getFloat32(at, true);
    return out;
  };
  const outs: RefTensor[] = [];
  let cur: RefTensor = { c: 3, h: h0, w: w0, d: x };
  layers.forEach((l, i) => {
    const o = l.opts;
    const ref = (r: number) => outs[r < 0 ? i + r : r];
    const act = (t: RefTensor, fallback: string) => {
      const name = o.activation ?? fallback;
      return { ...t, d: t.d.map((v) => refActivate(v, name)) };
    };
    switch (l.type) {
      case 'convolutional':
      case 'conv':
        cur = conv(cur, o, take);
        break;
      case 'maxpool':
      case 'max':
        cur = int(o, 'maxpool_depth', 0) ? channelMax(cur, int(o, 'out_channels', 1)) : pool(cur, o, 'max');
        break;
      case 'local_avgpool':
      case 'local_avg':
        cur = pool(cur, o, 'avg');
        break;
      case 'avgpool':
      case 'avg':
        cur = globalAverage(cur);
        break;
      case 'route':
        cur = route(list(o.layers).map(ref), int(o, 'groups', 1), int(o, 'group_id', 0));
        break;
      case 'shortcut':
        cur = act(shortcut(cur, list(o.from).map(ref), o, take), 'linear');
        break;
      case 'scale_channels':
        cur = act(scaleChannels(cur, ref(list(o.from)[0]), int(o, 'scale_wh', 0) !== 0), 'linear');
        break;
      case 'sam': {
        const f = ref(list(o.from)[0]);
        cur = act({ ...f, d: f.d.map((v, k) => v * cur.d[k]) }, 'linear');
        break;
      }
      case 'upsample':
        cur = upsample(cur, int(o, 'stride', 2));
        break;
      case 'reorg':
        cur = reorg(cur, int(o, 'stride', 1), false);
        break;
      case 'reorg3d':
        cur = reorg(cur, int(o, 'stride', 1), true);
        break;
      case 'dropout':
        break;
      case 'yolo':
        cur = yolo(cur, o);
        break;
      case 'region':
        cur = region(cur, o);
        break;
      default:
        throw new Error(`reference: section [${l.type}]`);
    }
    outs.push(cur);
  });
  return outs;
}

function conv(x: RefTensor, o: Record<string, string>, take: (n: number) => Float64Array): RefTensor {
  const n = int(o, 'filters', 1),
    size = int(o, 'size', 1),
    stride = int(o, 'stride', 1);
  let sx = int(o, 'stride_x', -1),
    sy = int(o, 'stride_y', -1);
  if (sx < 1 || sy < 1) [sx, sy] = [sx < 1 ? stride : sx, sy < 1 ? stride : sy];
  const pad = int(o, 'pad', 0) ? Math.trunc(size / 2) : int(o, 'padding', 0);
  const groups = Math.max(1, int(o, 'groups', 1));
  const bn = int(o, 'batch_normalize', 0) !== 0;
  const biases = take(n);
  const [scales, mean, variance] = bn ? [take(n), take(n), take(n)] : [];
  const cg = Math.trunc(x.c / groups),
    ng = n / groups;
  const w = take(n * cg * size * size);
  const oh = Math.trunc((x.h + 2 * pad - size) / sy) + 1,
    ow = Math.trunc((x.w + 2 * pad - size) / sx) + 1;
  const y = new Float64Array(n * oh * ow);
  for (let f = 0; f < n; f++) {
    const g = Math.trunc(f / ng);
    const out = y.subarray(f * oh * ow, (f + 1) * oh * ow);
    for (let c = 0; c < cg; c++) {
      const plane = x.d.subarray((g * cg + c) * x.h * x.w, (g * cg + c + 1) * x.h * x.w);
      for (let ky = 0; ky < size; ky++)
        for (let kx = 0; kx < size; kx++) {
          const wv = w[((f * cg + c) * size + ky) * size + kx];
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sy - pad + ky;
            if (iy < 0 || iy >= x.h) continue;
            for (let ox = 0; ox < ow; ox++) {
              const ix = ox * sx - pad + kx;
              if (ix >= 0 && ix < x.w) out[oy * ow + ox] += wv * plane[iy * x.w + ix];
            }
          }
        }
    }
    for (let p = 0; p < oh * ow; p++) {
      let v = out[p];
      if (bn) v = (scales![f] * (v - mean![f])) / Math.sqrt(variance![f] + 1e-5); // AlexeyAB's normalize_cpu
      out[p] = refActivate(v + biases[f], o.activation ?? 'logistic');
    }
  }
  return { c: n, h: oh, w: ow, d: y };
}

/** Max or mean (of the in-image taps) over Darknet's windows: padding default size−1, padding/2 before. */
function pool(x: RefTensor, o: Record<string, string>, kind: 'max' | 'avg'): RefTensor {
  const stride = int(o, 'stride', 1),
    sx = int(o, 'stride_x', stride),
    sy = int(o, 'stride_y', stride);
  const size = int(o, 'size', stride),
    padding = int(o, 'padding', size - 1),
    off = Math.trunc(padding / 2);
  const oh = Math.trunc((x.h + padding - size) / sy) + 1,
    ow = Math.trunc((x.w + padding - size) / sx) + 1;
  const y = new Float64Array(x.c * oh * ow);
  for (let c = 0; c < x.c; c++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity,
          sum = 0,
          count = 0;
        for (let ky = 0; ky < size; ky++)
          for (let kx = 0; kx < size; kx++) {
            const iy = oy * sy - off + ky,
              ix = ox * sx - off + kx;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            const v = x.d[(c * x.h + iy) * x.w + ix];
            best = Math.max(best, v);
            sum += v;
            count++;
          }
        y[(c * oh + oy) * ow + ox] = kind === 'max' ? best : sum / count;
      }
  return { c: x.c, h: oh, w: ow, d: y };
}

/** maxpool_depth: out[g] = max over channels g, g+K, g+2K, … */
function channelMax(x: RefTensor, k: number): RefTensor {
  const hw = x.h * x.w;
  const y = new Float64Array(k * hw).fill(-Infinity);
  for (let g = 0; g < k; g++)
    for (let c = g; c < x.c; c += k)
      for (let p = 0; p < hw; p++) y[g * hw + p] = Math.max(y[g * hw + p], x.d[c * hw + p]);
  return { c: k, h: x.h, w: x.w, d: y };
}

function globalAverage(x: RefTensor): RefTensor {
  const hw = x.h * x.w;
  const y = Float64Array.from(
    { length: x.c },
    (_, c) => x.d.subarray(c * hw, (c + 1) * hw).reduce((a, b) => a + b, 0) / hw,
  );
  return { c: x.c, h: 1, w: 1, d: y };
}

/** Each input's own block [group_id·n/groups, (group_id+1)·n/groups) of its n values, concatenated. */
function route(inputs: RefTensor[], groups: number, groupId: number): RefTensor {
  const parts = inputs.map((t) => {
    const part = t.d.length / groups;
    return t.d.subarray(groupId * part, (groupId + 1) * part);
  });
  const d = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    d.set(p, off);
    off += p.length;
  }
  return { c: inputs.reduce((s, t) => s + t.c, 0) / groups, h: inputs[0].h, w: inputs[0].w, d };
}

/**
 * shortcut_multilayer_cpu after fuse_conv_batchnorm's one-off weight normalisation: out[i] = in[i]·w₀ +
 * Σ_k from_k[i]·w_k over flat NCHW indices, from_k adding only where i < its own size.
 */
function shortcut(
  x: RefTensor,
  from: RefTensor[],
  o: Record<string, string>,
  take: (n: number) => Float64Array,
): RefTensor {
  const type = o.weights_type ?? 'none',
    norm = o.weights_normalization ?? 'none';
  const n = from.length + 1;
  const count = type === 'per_feature' || type === 'per_layer' ? n : type === 'per_channel' ? n * x.c : 0;
  const w = count ? take(count) : undefined;
  const step = count / n;
  if (w && norm !== 'none') {
    for (let ch = 0; ch < step; ch++) {
      const vals = Array.from({ length: n }, (_, i) => w[i * step + ch]);
      const max = Math.max(...vals);
      const r = vals.map((v) => (norm === 'softmax' ? Math.exp(v - max) : v > 0.001 ? v : 0.001));
      const sum = 0.0001 + r.reduce((a, b) => a + b, 0);
      r.forEach((v, i) => {
        w[i * step + ch] = v / sum;
      });
    }
  }
  const hw = x.h * x.w;
  const weightOf = (input: number, flat: number) =>
    w ? w[input * step + (step === 1 ? 0 : Math.trunc(flat / hw))] : 1;
  const d = x.d.map((v, i) => v * weightOf(0, i));
  from.forEach((f, k) => {
    for (let i = 0; i < Math.min(d.length, f.d.length); i++) d[i] += f.d[i] * weightOf(k + 1, i);
  });
  return { ...x, d };
}

function scaleChannels(x: RefTensor, from: RefTensor, wh: boolean): RefTensor {
  const hw = from.h * from.w;
  const d = from.d.map((v, i) => v * (wh ? x.d[i % hw] : x.d[Math.trunc(i / hw)]));
  return { ...from, d };
}

function upsample(x: RefTensor, s: number): RefTensor {
  const d = new Float64Array(x.c * x.h * s * x.w * s);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < x.h * s; y++)
      for (let xx = 0; xx < x.w * s; xx++)
        d[(c * x.h * s + y) * x.w * s + xx] = x.d[(c * x.h + Math.trunc(y / s)) * x.w + Math.trunc(xx / s)];
  return { c: x.c, h: x.h * s, w: x.w * s, d };
}

/**
 * reorg_cpu. Old [reorg] (forward = 0 with the input's dims): out[i + w(j + h·k)] = in[w2 + w·s(h2 + h·s·c2)];
 * [reorg3d] the same function with the output's dims, a space-to-depth.
 */
function reorg(x: RefTensor, s: number, space: boolean): RefTensor {
  const out = { c: x.c * s * s, h: x.h / s, w: x.w / s, d: new Float64Array(x.d.length) };
  const [w, h, c] = space ? [out.w, out.h, out.c] : [x.w, x.h, x.c];
  const cIn = c / (s * s);
  for (let k = 0; k < c; k++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        const c2 = k % cIn,
          offset = Math.trunc(k / cIn);
        const w2 = i * s + (offset % s),
          h2 = j * s + Math.trunc(offset / s);
        out.d[i + w * (j + h * k)] = x.d[w2 + w * s * (h2 + h * s * c2)];
      }
  return out;
}

/** [yolo] forward: σ on x, y, objectness, classes (none with new_coords), then x, y scaled by scale_x_y. */
function yolo(x: RefTensor, o: Record<string, string>): RefTensor {
  const classes = int(o, 'classes', 20),
    per = 5 + classes,
    hw = x.h * x.w;
  const s = float(o, 'scale_x_y', 1),
    newCoords = int(o, 'new_coords', 0) !== 0;
  const d = x.d.map((v, i) => {
    const e = Math.trunc(i / hw) % per;
    if (e === 2 || e === 3) return v;
    const a = newCoords ? v : sigmoid(v);
    return e < 2 ? a * s - 0.5 * (s - 1) : a;
  });
  return { ...x, d };
}

/** [region] forward: flattened to (h, w, num, 5+classes), σ on objectness, softmax over the classes. */
function region(x: RefTensor, o: Record<string, string>): RefTensor {
  const classes = int(o, 'classes', 20),
    num = int(o, 'num', 1),
    per = 5 + classes,
    hw = x.h * x.w;
  const d = new Float64Array(x.d.length);
  for (let p = 0; p < hw; p++)
    for (let a = 0; a < num; a++) {
      const at = (p * num + a) * per;
      for (let e = 0; e < per; e++) d[at + e] = x.d[(a * per + e) * hw + p];
      d[at + 4] = sigmoid(d[at + 4]);
      if (int(o, 'softmax', 0)) {
        const cls = d.subarray(at + 5, at + per);
        const max = Math.max(...cls);
        const e = cls.map((v) => Math.exp(v - max));
        const sum = e.reduce((s, v) => s + v, 0);
        cls.set(e.map((v) => v / sum));
      }
    }
  return { ...x, d };
}

/** NCHW (one image) → NHWC. */
export function toNhwc(t: { c: number; h: number; w: number; d: ArrayLike<number> }): Float64Array {
  const out = new Float64Array(t.c * t.h * t.w);
  const hw = t.h * t.w;
  for (let c = 0; c < t.c; c++) for (let p = 0; p < hw; p++) out[p * t.c + c] = t.d[c * hw + p];
  return out;
}
