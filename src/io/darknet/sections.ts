// One handler per Darknet section: which keys it reads, and — from its options and the shapes before it —
// its output shape, how many weights it stores, and the IR nodes it becomes. Each rule (padding, sizes,
// weight order) is written here once; network.ts walks the cfg once with these handlers. Every value is
// validated when read, with an error naming the cfg line and key, before any weight is read or GPU used.
import type { Node, Op } from '../../graph/ir.js';
import type { Activation } from '../../ops/activation.js';
import { foldBatchNorm } from '../../ops/batchnorm.js';
import { oihwToHwio } from './weights.js';
import type { Options } from './cfg.js';

export interface Shape3 {
  h: number;
  w: number;
  c: number;
}

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

/** What a section needs to know about the layers before it. */
export interface LayerContext {
  index: number;
  /** Output shape of an earlier layer; -1 is the network input. */
  shapeOf(layer: number): Shape3;
  /** Absolute indices of `key`'s layer references (negative = relative), each an earlier layer. */
  layers(key: string, required?: boolean): number[];
}

/** Adds nodes for one section, reading its weights in file order. */
export interface NodeBuilder {
  /** The node name for this layer (`12_conv`). */
  name: string;
  /** Node names of earlier layers by index (-1 = the input). */
  nodeOf(layer: number): string;
  /** Adds a node (named `name` unless given) with its weight arrays, if it has any. */
  add(op: Op, inputs: string[], name?: string, weights?: Record<string, Float32Array>): void;
  /**
   * The next `n` float32 weights of this layer, named `tensor` in errors: checked finite (and, with
   * `above`, greater than it) unless the loader was told to allow bad weights.
   */
  take(n: number, tensor: string, check?: { above?: number }): Float32Array;
}

export interface PlannedLayer {
  shape: Shape3;
  /** float32 values this layer stores in the weights file. */
  weightCount: number;
  build(b: NodeBuilder): void;
  head?: Omit<YoloHead, 'output'>;
}

export interface SectionHandler {
  /** Keys that change the computation; any other key not in `ignored` fails with its line. */
  keys: readonly string[];
  /** Training-only keys (or Darknet bookkeeping): accepted and ignored. */
  ignored: readonly string[];
  plan(o: Options, at: LayerContext): PlannedLayer;
}

/**
 * Batch norm as AlexeyAB's Darknet computes it (normalize_cpu and its load-time fuse): γ·(x − μ)/√(σ² + 1e-5) + β,
 * the same form as Keras's. pjreddie's CPU code divides by √σ² + 1e-6 instead; the two agree except where a
 * variance is near zero, and models trained with AlexeyAB's fork (MobileNetV2-YOLO-Fastest: 12 of 144 channels
 * below 1e-6 in one layer) are only right with its formula.
 */
export const DARKNET_BN_EPSILON = 1e-5;

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

/** A spatial size after a window, which must stay at least one pixel. */
function windowOut(o: Options, key: string, x: Shape3, out: (len: number) => number): { h: number; w: number } {
  const h = out(x.h), w = out(x.w);
  if (!(h >= 1 && w >= 1)) o.error(key, `the output would be ${w}×${h} from an input of ${x.w}×${x.h}`);
  return { h, w };
}

const convolutional: SectionHandler = {
  keys: ['filters', 'size', 'stride', 'pad', 'padding', 'groups', 'batch_normalize', 'activation'],
  ignored: ['stopbackward', 'dontload', 'dontloadscales', 'learning_rate_scale', 'train'],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const n = o.int('filters', 1, { min: 1 }), size = o.int('size', 1, { min: 1 }), stride = o.int('stride', 1, { min: 1 });
    const groups = o.int('groups', 1, { min: 1 });
    if (x.c % groups || n % groups) o.error('groups', `${groups} does not divide ${x.c} input channels and ${n} filters`);
    // parse_convolutional: pad=1 means size/2; otherwise `padding` pixels on every side.
    const padding = o.int('padding', 0, { min: 0 });
    const pad = o.int('pad', 0) ? Math.floor(size / 2) : padding;
    // Any non-zero batch_normalize turns it on, as in Darknet's `if (l.batch_normalize)`.
    const bn = o.int('batch_normalize', 0) !== 0;
    const activation = activationOf(o, 'logistic');
    const cg = x.c / groups;
    const { h, w } = windowOut(o, 'size', x, (len) => Math.floor((len + 2 * pad - size) / stride) + 1);
    return {
      shape: { h, w, c: n },
      weightCount: n + (bn ? 3 * n : 0) + n * cg * size * size,
      build(b) {
        // Darknet's order: biases (β with batch norm), then scales, rolling mean, rolling variance, then OIHW kernels.
        const biases = b.take(n, 'biases');
        // A variance within ε below zero (real files hold −7e-44) still gives a finite √(σ² + ε).
        const bnParams = bn
          ? { gamma: b.take(n, 'scales'), mean: b.take(n, 'rolling_mean'), variance: b.take(n, 'rolling_variance', { above: -DARKNET_BN_EPSILON }) }
          : undefined;
        const hwio = oihwToHwio(b.take(n * cg * size * size, 'weights'), n, cg, size);
        const { weights: kernel, bias } = bnParams
          ? foldBatchNorm(hwio, undefined, { ...bnParams, beta: biases, epsilon: DARKNET_BN_EPSILON })
          : { weights: hwio, bias: biases };
        b.add({
          kind: 'conv2d', kernelShape: [size, size, cg, n],
          attrs: { strides: [stride, stride], padding: [pad, pad, pad, pad], groups, activation },
        }, [b.nodeOf(at.index - 1)], undefined, { kernel, bias });
      },
    };
  },
};

/**
 * Darknet's max-pool window along one axis: `padding` (default size-1) in total, padding/2 of it before,
 * out = (len + padding - size)/stride + 1. Returns the output size and the pads before and after.
 */
export function darknetPoolAxis(len: number, size: number, stride: number, padding: number): { out: number; before: number; after: number } {
  const out = Math.floor((len + padding - size) / stride) + 1;
  const before = Math.floor(padding / 2);
  return { out, before, after: Math.max((out - 1) * stride + size - len - before, 0) };
}

const maxpool: SectionHandler = {
  keys: ['size', 'stride', 'padding'],
  ignored: [],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const stride = o.int('stride', 1, { min: 1 }), size = o.int('size', stride, { min: 1 });
    const padding = o.int('padding', size - 1, { min: 0 });
    const ay = darknetPoolAxis(x.h, size, stride, padding), ax = darknetPoolAxis(x.w, size, stride, padding);
    if (ay.out < 1 || ax.out < 1) o.error('size', `the output would be ${ax.out}×${ay.out} from an input of ${x.w}×${x.h}`);
    return {
      shape: { h: ay.out, w: ax.out, c: x.c },
      weightCount: 0,
      build(b) {
        b.add({ kind: 'pool2d', attrs: { kind: 'max', size: [size, size], strides: [stride, stride], padding: [ay.before, ay.after, ax.before, ax.after] } },
          [b.nodeOf(at.index - 1)]);
      },
    };
  },
};

const avgpool: SectionHandler = {
  keys: [],
  ignored: [],
  plan(_o, at) {
    const x = at.shapeOf(at.index - 1);
    return {
      shape: { h: 1, w: 1, c: x.c },
      weightCount: 0,
      build: (b) => b.add({ kind: 'global-pool', pool: 'avg', keepDims: true }, [b.nodeOf(at.index - 1)]),
    };
  },
};

const route: SectionHandler = {
  keys: ['layers', 'groups', 'group_id'],
  ignored: [],
  plan(o, at) {
    const from = at.layers('layers', true);
    const shapes = from.map((j) => at.shapeOf(j));
    if (shapes.some((f) => f.h !== shapes[0].h || f.w !== shapes[0].w)) {
      o.error('layers', `concatenates layers of different sizes (${shapes.map((f) => `${f.w}×${f.h}`).join(', ')})`);
    }
    const c = shapes.reduce((sum, f) => sum + f.c, 0);
    const groups = o.int('groups', 1, { min: 1 }), groupId = o.int('group_id', 0, { min: 0 });
    if (c % groups || groupId >= groups) o.error('groups', `cannot take group ${groupId} of ${groups} from ${c} channels`);
    return {
      shape: { h: shapes[0].h, w: shapes[0].w, c: c / groups },
      weightCount: 0,
      build(b) {
        const inputs = from.map((j) => b.nodeOf(j));
        const catName = groups > 1 ? `${b.name}/concat` : b.name;
        b.add(inputs.length === 1 ? { kind: 'identity' } : { kind: 'concat', axis: -1 }, inputs, catName);
        if (groups > 1) b.add({ kind: 'slice', axis: -1, begin: (c / groups) * groupId, size: c / groups }, [catName]);
      },
    };
  },
};

const shortcut: SectionHandler = {
  keys: ['from', 'activation', 'alpha', 'beta'],
  ignored: [],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const from = at.layers('from', true);
    if (from.length !== 1) o.error('from', `adds ${from.length} layers; one is supported`);
    const f = at.shapeOf(from[0]);
    if (f.h !== x.h || f.w !== x.w || f.c !== x.c) {
      o.error('from', `adds layer ${from[0]} (${f.w}×${f.h}×${f.c}) to ${x.w}×${x.h}×${x.c}; sizes must match`);
    }
    if (o.float('alpha', 1) !== 1 || o.float('beta', 1) !== 1) o.error('alpha', 'alpha/beta other than 1 are not supported');
    const activation = activationOf(o, 'linear');
    return {
      shape: x,
      weightCount: 0,
      build: (b) => b.add({ kind: 'add', activation }, [b.nodeOf(at.index - 1), b.nodeOf(from[0])]),
    };
  },
};

const upsample: SectionHandler = {
  keys: ['stride', 'scale'],
  ignored: [],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const stride = o.int('stride', 2);
    if (stride < 1) o.error('stride', 'downsampling (a negative stride) is not supported');
    if (stride > 32) o.error('stride', `${stride} is not a plausible upsampling factor (at most 32)`);
    if (o.float('scale', 1) !== 1) o.error('scale', 'scale other than 1 is not supported');
    return {
      shape: { h: x.h * stride, w: x.w * stride, c: x.c },
      weightCount: 0,
      build: (b) => b.add({ kind: 'upsample', factors: [stride, stride] }, [b.nodeOf(at.index - 1)]),
    };
  },
};

const dropout: SectionHandler = {
  keys: [],
  ignored: ['probability', 'dropblock', 'dropblock_size_rel', 'dropblock_size_abs'],
  plan(_o, at) {
    return { shape: at.shapeOf(at.index - 1), weightCount: 0, build: (b) => b.add({ kind: 'identity' }, [b.nodeOf(at.index - 1)]) };
  },
};

const yolo: SectionHandler = {
  keys: ['mask', 'anchors', 'classes', 'num', 'scale_x_y'],
  ignored: [
    'jitter', 'ignore_thresh', 'truth_thresh', 'random', 'iou_loss', 'iou_normalizer', 'cls_normalizer', 'nms_kind',
    'beta_nms', 'iou_thresh', 'max_delta', 'counters_per_class', 'label_smooth_eps', 'objectness_smooth', 'resize',
    'uc_normalizer', 'obj_normalizer', 'delta_normalizer', 'focal_loss', 'max',
  ],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const anchorList = o.ints('anchors');
    if (!anchorList.length || anchorList.length % 2) o.error('anchors', `needs (w, h) pairs, got ${anchorList.length} values`);
    if (anchorList.some((v) => !(v > 0))) o.error('anchors', 'anchor sizes must be positive');
    const anchors: [number, number][] = [];
    for (let k = 0; k + 1 < anchorList.length; k += 2) anchors.push([anchorList[k], anchorList[k + 1]]);
    const classes = o.int('classes', 20, { min: 1 });
    const mask = o.ints('mask', anchors.map((_, k) => k));
    if (!mask.length || mask.some((m) => !Number.isInteger(m) || m < 0 || m >= anchors.length)) {
      o.error('mask', `entries must index the ${anchors.length} anchors`);
    }
    if (x.c !== mask.length * (5 + classes)) {
      o.error('classes', `the layer before has ${x.c} channels, but ${mask.length} anchors × (5 + ${classes} classes) = ${mask.length * (5 + classes)}`);
    }
    const scaleXY = o.float('scale_x_y', 1);
    if (!(scaleXY > 0)) o.error('scale_x_y', 'must be positive');
    return {
      shape: x,
      weightCount: 0,
      head: { layer: at.index, mask, anchors, classes, scaleXY },
      build: (b) => b.add({ kind: 'identity' }, [b.nodeOf(at.index - 1)]),
    };
  },
};

/** The sections this loader supports, by the name Darknet gives them (aliases resolved in cfg.ts). */
export const SECTIONS: Record<string, SectionHandler> = { convolutional, maxpool, avgpool, route, shortcut, upsample, dropout, yolo };

/** Node name of layer `index`: `12_conv`, `13_maxpool`, … */
export const layerName = (index: number, type: string) => `${index}_${type === 'convolutional' ? 'conv' : type}`;

export type { Node };
