// Darknet .weights files in the exact format (header, then every weight-bearing section in cfg order with
// deterministic values), for cfgs whose real weights are not shipped. The file layout follows AlexeyAB's
// darknet (parser.c load_weights_upto), which is a superset of pjreddie's for the sections both know:
//   [convolutional]  biases[n], if batch_normalize≠0: scales[n], rolling_mean[n], rolling_variance[n];
//                    then kernels OIHW, (c/groups)·n·size·size floats (c/groups in integer division)
//   [connected]      biases[out], weights[out·in] (row-major out×in), if batch_normalize≠0: scales, mean, variance
//   [batchnorm]      biases[c], scales[c], rolling_mean[c], rolling_variance[c]
//   [shortcut]       weights_type=per_feature|per_layer: n+1 floats; per_channel: (n+1)·c floats, input-major
//                    (n = number of `from` layers; index 0 is the layer's own input, then each `from` in order)
//   [implicit]       filters·atoms floats
// Nothing for a [convolutional] with share_index, nor for a section with dontload≠0; dontloadscales≠0 drops
// the batch-norm triple. See test/fixtures/darknet-zoo/SECTIONS.md for the semantics of each section.
import { writeFileSync } from 'node:fs';
import { rng } from './harness.js';

export interface RefLayer {
  type: string;
  opts: Record<string, string>;
}

/**
 * The cfg as Darknet's read_cfg sees it: every space, tab and CR removed from each line (also inside values),
 * lines starting with '#' or ';' skipped, a key's first occurrence in a section wins (option_find).
 */
export function readDarknetCfg(text: string): { net: Record<string, string>; layers: RefLayer[] } {
  const sections: RefLayer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[ \t\r\n]/g, '');
    if (!line || line[0] === '#' || line[0] === ';') continue;
    if (line[0] === '[') sections.push({ type: line.slice(1, -1), opts: {} });
    else {
      const eq = line.indexOf('=');
      if (eq < 0 || !sections.length) continue;
      const k = line.slice(0, eq);
      if (!(k in sections[sections.length - 1].opts)) sections[sections.length - 1].opts[k] = line.slice(eq + 1);
    }
  }
  if (!sections.length || (sections[0].type !== 'net' && sections[0].type !== 'network'))
    throw new Error('cfg must start with [net]');
  return { net: sections[0].opts, layers: sections.slice(1) };
}

/** C atoi: leading integer or 0; `def` when the key is absent (option_find_int). */
function int(o: Record<string, string>, key: string, def: number): number {
  if (!(key in o)) return def;
  const v = parseInt(o[key], 10);
  return Number.isNaN(v) ? 0 : v;
}

/** C atof; `def` when absent. */
function float(o: Record<string, string>, key: string, def: number): number {
  if (!(key in o)) return def;
  const v = parseFloat(o[key]);
  return Number.isNaN(v) ? 0 : v;
}

/** Layer indices of a route/shortcut `layers=`/`from=` list, made absolute. */
function refs(value: string | undefined, i: number, what: string): number[] {
  if (value === undefined) throw new Error(`layer ${i}: ${what}= is required`);
  return value.split(',').map((s) => {
    const r = parseInt(s, 10) || 0;
    return r < 0 ? i + r : r;
  });
}

export interface LayerShape {
  type: string;
  /** Output channels, height, width (Darknet's out_c, out_h, out_w). */
  c: number;
  h: number;
  w: number;
}

/** Output shapes of every section after [net], following AlexeyAB's parse_* / make_*_layer. */
export function darknetShapes(layers: RefLayer[], input: { c: number; h: number; w: number }): LayerShape[] {
  const out: LayerShape[] = [];
  layers.forEach((l, i) => {
    const prev = i ? out[i - 1] : { type: 'net', ...input };
    const o = l.opts;
    const at = (j: number) => {
      if (!(j >= 0 && j < i)) throw new Error(`layer ${i} [${l.type}]: reference to layer ${j}`);
      return out[j];
    };
    let s: { c: number; h: number; w: number };
    switch (l.type) {
      case 'convolutional':
      case 'conv': {
        const n = int(o, 'filters', 1),
          size = int(o, 'size', 1);
        let sx = int(o, 'stride_x', -1),
          sy = int(o, 'stride_y', -1);
        if (sx < 1 || sy < 1) {
          const st = int(o, 'stride', 1);
          if (sx < 1) sx = st;
          if (sy < 1) sy = st;
        }
        const pad = int(o, 'pad', 0) ? Math.trunc(size / 2) : int(o, 'padding', 0);
        let h = Math.trunc((prev.h + 2 * pad - size) / sy) + 1,
          w = Math.trunc((prev.w + 2 * pad - size) / sx) + 1;
        const aa = int(o, 'antialiasing', 0);
        if (aa) {
          // the host conv runs at stride 1, then a fixed depthwise blur (3×3 pad 1, or 2×2 pad 0 for
          // antialiasing=2) applies the stride; the blur's weights are not in the file
          h = Math.trunc(prev.h + 2 * pad - size) + 1;
          w = Math.trunc(prev.w + 2 * pad - size) + 1;
          const bs = aa === 2 ? 2 : 3,
            bp = aa === 2 ? 0 : 1;
          h = Math.trunc((h + 2 * bp - bs) / sy) + 1;
          w = Math.trunc((w + 2 * bp - bs) / sx) + 1;
        }
        s = { c: n, h, w };
        break;
      }
      case 'connected':
      case 'conn':
        s = { c: int(o, 'output', 1), h: 1, w: 1 };
        break;
      case 'maxpool':
      case 'max':
      case 'local_avgpool':
      case 'local_avg': {
        const stride = int(o, 'stride', 1);
        const sx = int(o, 'stride_x', stride),
          sy = int(o, 'stride_y', stride);
        const size = int(o, 'size', stride),
          padding = int(o, 'padding', size - 1);
        const isMax = l.type === 'maxpool' || l.type === 'max';
        if (isMax && int(o, 'maxpool_depth', 0)) s = { c: int(o, 'out_channels', 1), h: prev.h, w: prev.w };
        else
          s = {
            c: prev.c,
            h: Math.trunc((prev.h + padding - size) / sy) + 1,
            w: Math.trunc((prev.w + padding - size) / sx) + 1,
          };
        break;
      }
      case 'avgpool':
      case 'avg':
        s = { c: prev.c, h: 1, w: 1 };
        break;
      case 'route': {
        const src = refs(o.layers, i, 'layers').map(at);
        const groups = int(o, 'groups', 1);
        s = { c: Math.trunc(src.reduce((t, r) => t + r.c, 0) / groups), h: src[0].h, w: src[0].w };
        break;
      }
      case 'shortcut':
        refs(o.from, i, 'from').forEach(at);
        s = { c: prev.c, h: prev.h, w: prev.w };
        break;
      case 'scale_channels':
      case 'sam': {
        const from = at(refs(o.from, i, 'from')[0]);
        s = { c: from.c, h: from.h, w: from.w };
        break;
      }
      case 'upsample': {
        const st = int(o, 'stride', 2);
        s =
          st < 0
            ? { c: prev.c, h: Math.trunc(prev.h / -st), w: Math.trunc(prev.w / -st) }
            : { c: prev.c, h: prev.h * st, w: prev.w * st };
        break;
      }
      case 'reorg':
      case 'reorg3d': {
        const st = int(o, 'stride', 1);
        s = int(o, 'reverse', 0)
          ? { c: Math.trunc(prev.c / (st * st)), h: prev.h * st, w: prev.w * st }
          : { c: prev.c * st * st, h: Math.trunc(prev.h / st), w: Math.trunc(prev.w / st) };
        break;
      }
      case 'implicit':
        s = { c: int(o, 'filters', 128), h: int(o, 'atoms', 1), w: 1 };
        break;
      case 'yolo':
      case 'Gaussian_yolo':
      case 'region':
      case 'detection':
      case 'dropout':
      case 'activation':
      case 'batchnorm':
      case 'softmax':
      case 'soft':
      case 'cost':
      case 'empty':
      case 'silence':
        s = { c: prev.c, h: prev.h, w: prev.w };
        break;
      default:
        throw new Error(`layer ${i}: section [${l.type}] is not handled by the weights writer`);
    }
    out.push({ type: l.type, ...s });
  });
  return out;
}

/** One contiguous run of floats in the weights file, with the uniform range the writer draws it from. */
export interface WeightPart {
  name: string;
  count: number;
  lo: number;
  hi: number;
}

export interface WeightBlock {
  /** Section index after [net] (Darknet's layer index). */
  index: number;
  type: string;
  parts: WeightPart[];
}

const BIAS = [-0.1, 0.1],
  SCALE = [0.8, 1.2],
  MEAN = [-0.1, 0.1],
  VARIANCE = [0.5, 1.5];

export interface WeightOptions {
  /**
   * Multiplies the variance of conv kernels and connected weights: their range becomes ±√(3·gain/fan-in).
   * Default 1 (the writer's original ranges). Batch norm uses fixed statistics here, so nothing renormalises:
   * at gain 1 a deep net loses about half its signal power per leaky/mish/swish layer and its heads end up
   * dominated by the biases, while a little above the critical gain (≈2 for leaky, more for swish, less with
   * residual adds) activations grow without bound. test/fixtures/darknet-zoo/README.md lists the gain used
   * for each model there.
   */
  kernelGain?: number;
}

/** Every weight-bearing section in file order, with its float counts and value ranges. */
export function darknetWeightLayout(cfgText: string, options: WeightOptions = {}): WeightBlock[] {
  const { net, layers } = readDarknetCfg(cfgText);
  const input = { c: int(net, 'channels', 0), h: int(net, 'height', 0), w: int(net, 'width', 0) };
  const shapes = darknetShapes(layers, input);
  const blocks: WeightBlock[] = [];
  const gain = options.kernelGain ?? 1;
  const part = (name: string, count: number, [lo, hi]: number[]): WeightPart => ({ name, count, lo, hi });
  layers.forEach((l, i) => {
    const o = l.opts;
    const prev = i ? shapes[i - 1] : { type: 'net', ...input };
    if (int(o, 'dontload', 0)) return;
    const bn = int(o, 'batch_normalize', 0) !== 0 || int(o, 'cbn', 0) !== 0;
    const scales = bn && !int(o, 'dontloadscales', 0);
    const bnParts = (n: number) =>
      scales ? [part('scales', n, SCALE), part('rolling_mean', n, MEAN), part('rolling_variance', n, VARIANCE)] : [];
    switch (l.type) {
      case 'convolutional':
      case 'conv': {
        if ('share_index' in o) return;
        const n = int(o, 'filters', 1),
          size = int(o, 'size', 1);
        let groups = int(o, 'groups', 1);
        if (int(o, 'xnor', 0) || groups < 1) groups = 1;
        const fanIn = (prev.c / groups) * size * size;
        const a = Math.sqrt((3 * gain) / fanIn);
        blocks.push({
          index: i,
          type: l.type,
          parts: [
            part('biases', n, BIAS),
            ...bnParts(n),
            part('weights', Math.trunc(prev.c / groups) * n * size * size, [-a, a]),
          ],
        });
        break;
      }
      case 'connected':
      case 'conn': {
        const out = int(o, 'output', 1),
          inputs = prev.c * prev.h * prev.w;
        const a = Math.sqrt((3 * gain) / inputs);
        blocks.push({
          index: i,
          type: l.type,
          parts: [part('biases', out, BIAS), part('weights', out * inputs, [-a, a]), ...bnParts(out)],
        });
        break;
      }
      case 'batchnorm':
        blocks.push({
          index: i,
          type: l.type,
          parts: [
            part('biases', prev.c, BIAS),
            part('scales', prev.c, SCALE),
            part('rolling_mean', prev.c, MEAN),
            part('rolling_variance', prev.c, VARIANCE),
          ],
        });
        break;
      case 'shortcut': {
        const wt = o.weights_type ?? 'none';
        const n = refs(o.from, i, 'from').length;
        if (wt === 'none') return;
        const count =
          wt === 'per_feature' || wt === 'per_layer' ? n + 1 : wt === 'per_channel' ? (n + 1) * prev.c : NaN;
        if (Number.isNaN(count)) throw new Error(`layer ${i}: weights_type=${wt}`);
        blocks.push({ index: i, type: l.type, parts: [part('weights', count, [0.3, 0.9])] });
        break;
      }
      case 'implicit': {
        const mean = float(o, 'mean', 0),
          std = float(o, 'std', 0.2);
        blocks.push({
          index: i,
          type: l.type,
          parts: [part('weights', int(o, 'filters', 128) * int(o, 'atoms', 1), [mean - std, mean + std])],
        });
        break;
      }
      case 'local':
      case 'crnn':
      case 'rnn':
      case 'gru':
      case 'lstm':
      case 'conv_lstm':
        throw new Error(`layer ${i}: [${l.type}] weights are not generated`);
    }
  });
  return blocks;
}

/** Size in bytes of the weights file for `cfgText`: 20-byte header + 4 per float. */
export function darknetWeightsBytes(cfgText: string): number {
  return 20 + 4 * darknetWeightLayout(cfgText).reduce((s, b) => s + b.parts.reduce((t, p) => t + p.count, 0), 0);
}

/**
 * The bytes of a weights file for `cfgText`. Header: major 0, minor 2, revision 0, seen 32013312 (uint64, as
 * minor ≥ 2). Then one mulberry32 stream (`rng(seed)`) draws every float in file order, uniform in its part's
 * range: biases ±0.1, BN scales 0.8…1.2, rolling mean ±0.1, rolling variance 0.5…1.5, conv kernels ±√(3/fan-in)
 * with fan-in (c/groups)·size², connected weights ±√(3/inputs), shortcut weights 0.3…0.9, implicit weights
 * mean±std from the cfg; `options.kernelGain` scales the kernels' variance.
 */
export function darknetWeights(cfgText: string, seed: number, options: WeightOptions = {}): Uint8Array {
  const blocks = darknetWeightLayout(cfgText, options);
  const params = blocks.reduce((s, b) => s + b.parts.reduce((t, p) => t + p.count, 0), 0);
  const bytes = new Uint8Array(20 + 4 * params);
  const view = new DataView(bytes.buffer);
  view.setInt32(4, 2, true);
  view.setBigUint64(12, 32013312n, true);
  // Float32Array stores little-endian on every platform Node runs on here, and rounds as setFloat32 does.
  const values = new Float32Array(bytes.buffer, 20, params);
  const next = rng(seed);
  let at = 0;
  for (const b of blocks)
    for (const { count, lo, hi } of b.parts) for (let i = 0; i < count; i++) values[at++] = lo + (hi - lo) * next();
  return bytes;
}

/** Writes darknetWeights(cfgText, seed, options) to `path`; returns its size. */
export function writeDarknetWeights(path: string, cfgText: string, seed: number, options: WeightOptions = {}): number {
  const bytes = darknetWeights(cfgText, seed, options);
  writeFileSync(path, bytes);
  return bytes.length;
}
