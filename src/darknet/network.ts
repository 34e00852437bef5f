// Darknet cfg + weights → Graph. Weights are read in cfg order (biases, then BN scales/mean/variance,
// then OIHW kernels), transposed once to HWIO, and batch norm is folded into the conv with Darknet's
// own formula (γ·(x−μ)/(√σ² + 1e-6) + β). The file size must match the cfg exactly.
import type { Graph, Node, Op } from '../graph/ir.js';
import { ModelFileError } from '../io/errors.js';
import type { Activation } from '../ops/activation.js';
import { Options, parseCfg, type CfgSection } from './cfg.js';

export interface YoloHead {
  /** The graph output (the conv feeding [yolo]) this head decodes. */
  output: string;
  /** Darknet layer index of the [yolo] section. */
  layer: number;
  mask: number[];
  /** All anchors as (w, h) pairs in input pixels. */
  anchors: [number, number][];
  classes: number;
  scaleXY: number;
}

export interface DarknetNetwork {
  graph: Graph;
  heads: YoloHead[];
  width: number;
  height: number;
  channels: number;
  /** [net] letter_box (AlexeyAB); pjreddie always letterboxes. */
  letterbox: boolean;
  /** Header of the weights file. */
  version?: { major: number; minor: number; revision: number; seen: number };
}

const ACTIVATIONS: Record<string, Activation> = {
  linear: { kind: 'linear' }, leaky: { kind: 'leaky', alpha: 0.1 }, relu: { kind: 'relu' }, logistic: { kind: 'sigmoid' },
  mish: { kind: 'mish' }, swish: { kind: 'swish' }, tanh: { kind: 'tanh' }, elu: { kind: 'elu', alpha: 1 }, selu: { kind: 'selu' },
  relu6: { kind: 'relu6' },
};

function activationOf(o: Options, fallback: string): Activation {
  const name = o.str('activation', fallback);
  const a = ACTIVATIONS[name];
  if (!a) o.error('activation', `'${name}' is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  return a;
}

interface Shape3 {
  h: number;
  w: number;
  c: number;
}

/** Reads float32 arrays in order from the weights bytes. */
class WeightReader {
  offset: number;
  constructor(private readonly view: DataView, start: number) {
    this.offset = start;
  }
  take(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.offset + 4 * i, true);
    this.offset += 4 * n;
    return out;
  }
}

function readHeader(bytes: Uint8Array, file: string) {
  if (bytes.length < 16) throw new ModelFileError(file, `is ${bytes.length} bytes, too short for a Darknet weights header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = view.getInt32(0, true), minor = view.getInt32(4, true), revision = view.getInt32(8, true);
  const wide = major * 10 + minor >= 2 && major < 1000 && minor < 1000;
  const seen = wide ? Number(view.getBigUint64(12, true)) : view.getInt32(12, true);
  return { view, header: { major, minor, revision, seen }, start: wide ? 20 : 16 };
}

/** Parameter count of one conv section (what its weights occupy), from the cfg alone. */
function convParams(o: Options, inC: number): number {
  const n = o.int('filters', 1), size = o.int('size', 1), groups = o.int('groups', 1);
  return n + (o.int('batch_normalize', 0) ? 3 * n : 0) + n * (inC / groups) * size * size;
}

/**
 * Builds the graph. With `weights`, the file size is checked first (header + 4 × parameters) and the
 * arrays are read; without, the convs get zero weights (for shapes and summaries only).
 */
export function buildDarknet(
  cfgText: string, cfgFile: string, weights?: { bytes: Uint8Array; file: string }, inputSize?: [number, number],
): DarknetNetwork {
  const { net, layers } = parseCfg(cfgText, cfgFile);
  const netOpts = new Options(net, cfgFile);
  const width = inputSize?.[0] ?? netOpts.int('width');
  const height = inputSize?.[1] ?? netOpts.int('height');
  const channels = netOpts.int('channels', 3);
  if (width % 32 || height % 32) netOpts.error('width', `input ${width}×${height} must be a multiple of 32`);

  // First pass: shapes and parameter counts, so a weights file of the wrong size fails before reading.
  const shapes: Shape3[] = [];
  const inputOf = (i: number) => (i === 0 ? { h: height, w: width, c: channels } : shapes[i - 1]);
  const resolve = (o: Options, key: string, i: number, list: number[]) =>
    list.map((r) => {
      const abs = r < 0 ? i + r : r;
      if (abs < 0 || abs >= i) o.error(key, `layer ${r} (absolute ${abs}) does not exist before layer ${i}`);
      return abs;
    });
  let params = 0;
  layers.forEach((s, i) => {
    const o = new Options(s, cfgFile);
    const x = inputOf(i);
    shapes.push(layerShape(s, o, x, i, shapes, resolve));
    if (s.type === 'convolutional') params += convParams(o, x.c);
  });

  let reader: WeightReader | undefined;
  let version: DarknetNetwork['version'];
  if (weights) {
    const { view, header, start } = readHeader(weights.bytes, weights.file);
    const expected = start + 4 * params;
    if (weights.bytes.length !== expected) {
      throw new ModelFileError(weights.file,
        `is ${weights.bytes.length} bytes, but ${cfgFile} needs ${expected} (a ${start}-byte header + ${params} float32 parameters): ` +
        `${weights.bytes.length < expected ? 'truncated, or ' : ''}weights for another cfg`);
    }
    reader = new WeightReader(view, start);
    version = header;
  }

  const nodes: Node[] = [{ name: 'input', op: { kind: 'input', shape: [height, width, channels] }, inputs: [] }];
  const names: string[] = [];
  const heads: YoloHead[] = [];
  layers.forEach((s, i) => {
    const o = new Options(s, cfgFile);
    const prev = i === 0 ? 'input' : names[i - 1];
    const name = `${i}_${s.type === 'convolutional' ? 'conv' : s.type}`;
    names.push(name);
    const add = (op: Op, inputs: string[], nodeName = name) =>
      nodes.push({ name: nodeName, op, inputs, source: { className: `[${s.type}]`, file: cfgFile, layer: name } });
    switch (s.type) {
      case 'convolutional': {
        const x = inputOf(i);
        const n = o.int('filters', 1), size = o.int('size', 1), stride = o.int('stride', 1), groups = o.int('groups', 1);
        const pad = o.int('pad', 0) ? Math.floor(size / 2) : o.int('padding', 0);
        const bn = o.int('batch_normalize', 0) === 1;
        const cg = x.c / groups;
        let bias: Float32Array = new Float32Array(n);
        let kernel: Float32Array = new Float32Array(size * size * cg * n);
        if (reader) {
          const biases = reader.take(n);
          const bnParams = bn ? { scales: reader.take(n), mean: reader.take(n), variance: reader.take(n) } : undefined;
          const oihw = reader.take(n * cg * size * size);
          kernel = oihwToHwio(oihw, n, cg, size);
          if (bnParams) ({ kernel, bias } = foldDarknetBatchNorm(kernel, biases, bnParams));
          else bias = biases;
        }
        add({
          kind: 'conv2d', weights: kernel, shape: [size, size, cg, n], bias,
          attrs: { strides: [stride, stride], padding: [pad, pad, pad, pad], groups, activation: activationOf(o, 'logistic') },
        }, [prev]);
        break;
      }
      case 'maxpool': {
        const stride = o.int('stride', 1), size = o.int('size', stride);
        const padding = o.int('padding', size - 1);
        const x = inputOf(i);
        const axis = (len: number) => {
          const before = Math.floor(padding / 2);
          const out = Math.floor((len + padding - size) / stride) + 1;
          return [before, Math.max((out - 1) * stride + size - len - before, 0)];
        };
        const [t, b] = axis(x.h), [l, r] = axis(x.w);
        add({ kind: 'pool2d', attrs: { kind: 'max', size: [size, size], strides: [stride, stride], padding: [t, b, l, r] } }, [prev]);
        break;
      }
      case 'avgpool':
        add({ kind: 'global-pool', pool: 'avg', keepDims: true }, [prev]);
        break;
      case 'route': {
        const from = resolve(o, 'layers', i, o.ints('layers')).map((j) => names[j]);
        const groups = o.int('groups', 1), groupId = o.int('group_id', 0);
        const catName = groups > 1 ? `${name}/concat` : name;
        if (from.length === 1) add({ kind: 'identity' }, from, catName);
        else add({ kind: 'concat', axis: -1 }, from, catName);
        if (groups > 1) {
          const c = from.reduce((sum, f) => sum + shapes[names.indexOf(f)].c, 0);
          add({ kind: 'slice', axis: -1, begin: (c / groups) * groupId, size: c / groups }, [catName]);
        }
        break;
      }
      case 'shortcut': {
        const [from] = resolve(o, 'from', i, o.ints('from'));
        if (o.float('alpha', 1) !== 1 || o.float('beta', 1) !== 1) o.error('alpha', 'alpha/beta other than 1 are not supported');
        add({ kind: 'add', activation: activationOf(o, 'linear') }, [prev, names[from]]);
        break;
      }
      case 'upsample': {
        const stride = o.int('stride', 2);
        if (o.float('scale', 1) !== 1) o.error('scale', 'scale other than 1 is not supported');
        add({ kind: 'upsample', factors: [stride, stride] }, [prev]);
        break;
      }
      case 'dropout':
        add({ kind: 'identity' }, [prev]);
        break;
      case 'yolo': {
        add({ kind: 'identity' }, [prev]);
        const anchorList = o.ints('anchors');
        const anchors: [number, number][] = [];
        for (let k = 0; k + 1 < anchorList.length; k += 2) anchors.push([anchorList[k], anchorList[k + 1]]);
        const classes = o.int('classes', 20);
        const mask = o.ints('mask', anchors.map((_, k) => k));
        if (mask.some((m) => m < 0 || m >= anchors.length)) o.error('mask', `entries must index the ${anchors.length} anchors`);
        const c = inputOf(i).c;
        if (c !== mask.length * (5 + classes)) {
          o.error('classes', `the layer before has ${c} channels, but ${mask.length} anchors × (5 + ${classes} classes) = ${mask.length * (5 + classes)}`);
        }
        heads.push({ output: name, layer: i, mask, anchors, classes, scaleXY: o.float('scale_x_y', 1) });
        break;
      }
    }
  });
  if (!heads.length) throw new ModelFileError(cfgFile, 'has no [yolo] layer');
  const graph: Graph = { name: cfgFile.split('/').pop()!, nodes, inputs: ['input'], outputs: heads.map((h) => h.output) };
  return { graph, heads, width, height, channels, letterbox: netOpts.int('letter_box', 1) !== 0, version };
}

/** Output shape of one layer, with Darknet's size rules; errors name the line. */
function layerShape(
  s: CfgSection, o: Options, x: Shape3, i: number, shapes: Shape3[],
  resolve: (o: Options, key: string, i: number, list: number[]) => number[],
): Shape3 {
  switch (s.type) {
    case 'convolutional': {
      const n = o.int('filters', 1), size = o.int('size', 1), stride = o.int('stride', 1), groups = o.int('groups', 1);
      if (x.c % groups || n % groups) o.error('groups', `${groups} does not divide ${x.c} input channels and ${n} filters`);
      const pad = o.int('pad', 0) ? Math.floor(size / 2) : o.int('padding', 0);
      const out = (len: number) => Math.floor((len + 2 * pad - size) / stride) + 1;
      return { h: out(x.h), w: out(x.w), c: n };
    }
    case 'maxpool': {
      const stride = o.int('stride', 1), size = o.int('size', stride), padding = o.int('padding', size - 1);
      const out = (len: number) => Math.floor((len + padding - size) / stride) + 1;
      return { h: out(x.h), w: out(x.w), c: x.c };
    }
    case 'avgpool':
      return { h: 1, w: 1, c: x.c };
    case 'route': {
      const from = resolve(o, 'layers', i, o.ints('layers')).map((j) => shapes[j]);
      if (from.some((f) => f.h !== from[0].h || f.w !== from[0].w)) {
        o.error('layers', `concatenates layers of different sizes (${from.map((f) => `${f.w}×${f.h}`).join(', ')})`);
      }
      const c = from.reduce((sum, f) => sum + f.c, 0);
      const groups = o.int('groups', 1), groupId = o.int('group_id', 0);
      if (c % groups || groupId < 0 || groupId >= groups) o.error('groups', `cannot take group ${groupId} of ${groups} from ${c} channels`);
      return { h: from[0].h, w: from[0].w, c: c / groups };
    }
    case 'shortcut': {
      const [from] = resolve(o, 'from', i, o.ints('from'));
      const f = shapes[from];
      if (f.h !== x.h || f.w !== x.w || f.c !== x.c) {
        o.error('from', `adds layer ${from} (${f.w}×${f.h}×${f.c}) to ${x.w}×${x.h}×${x.c}; sizes must match`);
      }
      return x;
    }
    case 'upsample': {
      const stride = o.int('stride', 2);
      if (stride < 1) o.error('stride', 'downsampling (negative stride) is not supported');
      return { h: x.h * stride, w: x.w * stride, c: x.c };
    }
    default:
      return x; // dropout, yolo
  }
}

/** [out][in][kh][kw] → [kh][kw][in][out]. */
export function oihwToHwio(w: Float32Array, n: number, cg: number, size: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < n; o++)
    for (let i = 0; i < cg; i++)
      for (let ky = 0; ky < size; ky++)
        for (let kx = 0; kx < size; kx++) out[((ky * size + kx) * cg + i) * n + o] = w[((o * cg + i) * size + ky) * size + kx];
  return out;
}

/** Darknet's CPU batch norm, folded: s = γ/(√σ² + 1e-6), w' = w·s, b' = β − μ·s (float64, rounded once). */
export function foldDarknetBatchNorm(
  hwio: Float32Array, beta: Float32Array, bn: { scales: Float32Array; mean: Float32Array; variance: Float32Array },
): { kernel: Float32Array; bias: Float32Array } {
  const n = beta.length;
  const scale = Array.from({ length: n }, (_, o) => bn.scales[o] / (Math.sqrt(bn.variance[o]) + 1e-6));
  const kernel = new Float32Array(hwio.length);
  for (let i = 0; i < hwio.length; i++) kernel[i] = hwio[i] * scale[i % n];
  const bias = Float32Array.from({ length: n }, (_, o) => beta[o] - bn.mean[o] * scale[o]);
  return { kernel, bias };
}
