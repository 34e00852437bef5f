// One handler per Darknet section: which keys it reads, and — from its options and the shapes before it —
// its output shape, how many weights it stores, and the IR nodes it becomes. Each rule (padding, sizes,
// weight order) is written here once; network.ts walks the cfg once with these handlers. Every value is
// validated when read, with an error naming the cfg line and key, before any weight is read or GPU used.
// The semantics follow AlexeyAB's fork (test/fixtures/darknet-zoo/SECTIONS.md); layers that combine earlier
// outputs are in merge-sections.ts, the detection heads in head-sections.ts.
import { foldBatchNorm } from '../../ops/batchnorm.js';
import { activationOf } from './activations.js';
import type { Options } from './cfg.js';
import { region, yolo } from './head-sections.js';
import { route, sam, scaleChannels, shortcut } from './merge-sections.js';
import type { LayerContext, NodeBuilder, PlannedLayer, SectionHandler, Shape3 } from './section-types.js';
import { oihwToHwio } from './weights.js';

export type {
  DetectionHead,
  LayerContext,
  NmsRule,
  NodeBuilder,
  PlannedLayer,
  RegionHead,
  SectionHandler,
  Shape3,
  YoloHead,
} from './section-types.js';

/**
 * Batch norm as AlexeyAB's Darknet computes it (normalize_cpu and its load-time fuse): γ·(x − μ)/√(σ² + 1e-5) + β,
 * the same form as Keras's. pjreddie's CPU code divides by √σ² + 1e-6 instead; the two agree except where a
 * variance is near zero, and models trained with AlexeyAB's fork (MobileNetV2-YOLO-Fastest: 12 of 144 channels
 * below 1e-6 in one layer) are only right with its formula.
 */
const DARKNET_BN_EPSILON = 1e-5;

type Shape3Hw = { h: number; w: number };

/** A spatial size after a window, which must stay at least one pixel. */
function windowOut(o: Options, key: string, x: Shape3, out: (len: number, axis: 'h' | 'w') => number): Shape3Hw {
  const h = out(x.h, 'h'),
    w = out(x.w, 'w');
  if (!(h >= 1 && w >= 1)) o.error(key, `the output would be ${w}×${h} from an input of ${x.w}×${x.h}`);
  return { h, w };
}

/**
 * stride_x / stride_y, each falling back to `stride` (as parse_convolutional and parse_maxpool do); a stride
 * that is given must be at least 1.
 */
function strides(o: Options): { sx: number; sy: number; stride: number } {
  const stride = o.int('stride', 1, { min: 1 });
  return { sx: o.int('stride_x', stride, { min: 1 }), sy: o.int('stride_y', stride, { min: 1 }), stride };
}

const convolutional: SectionHandler = {
  keys: [
    'filters',
    'size',
    'stride',
    'stride_x',
    'stride_y',
    'pad',
    'padding',
    'groups',
    'batch_normalize',
    'activation',
  ],
  ignored: ['stopbackward', 'dontload', 'dontloadscales', 'learning_rate_scale', 'train'],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const n = o.int('filters', 1, { min: 1 }),
      size = o.int('size', 1, { min: 1 });
    const { sx, sy } = strides(o);
    const groups = o.int('groups', 1, { min: 1 });
    if (x.c % groups || n % groups) {
      o.error('groups', `${groups} does not divide ${x.c} input channels and ${n} filters`);
    }
    // parse_convolutional: pad=1 means size/2; otherwise `padding` pixels on every side.
    const padding = o.int('padding', 0, { min: 0 });
    const pad = o.int('pad', 0) ? Math.floor(size / 2) : padding;
    // Any non-zero batch_normalize turns it on, as in Darknet's `if (l.batch_normalize)`.
    const bn = o.int('batch_normalize', 0) !== 0;
    const activation = activationOf(o, 'logistic', 'convolutional');
    const cg = x.c / groups;
    const out = (len: number, axis: 'h' | 'w') => Math.floor((len + 2 * pad - size) / (axis === 'h' ? sy : sx)) + 1;
    const { h, w } = windowOut(o, 'size', x, out);
    return {
      shape: { h, w, c: n },
      weightCount: n + (bn ? 3 * n : 0) + n * cg * size * size,
      build(b) {
        // Darknet's order: biases (β with batch norm), then scales, rolling mean, rolling variance, then OIHW kernels.
        const biases = b.take(n, 'biases');
        // A variance within ε below zero (real files hold −7e-44) still gives a finite √(σ² + ε).
        const bnParams = bn
          ? {
              gamma: b.take(n, 'scales'),
              mean: b.take(n, 'rolling_mean'),
              variance: b.take(n, 'rolling_variance', { above: -DARKNET_BN_EPSILON }),
            }
          : undefined;
        const hwio = oihwToHwio(b.take(n * cg * size * size, 'weights'), n, cg, size);
        const { weights: kernel, bias } = bnParams
          ? foldBatchNorm(hwio, undefined, { ...bnParams, beta: biases, epsilon: DARKNET_BN_EPSILON })
          : { weights: hwio, bias: biases };
        b.add(
          {
            kind: 'conv2d',
            kernelShape: [size, size, cg, n],
            attrs: { strides: [sy, sx], padding: [pad, pad, pad, pad], groups, activation },
          },
          [b.nodeOf(at.index - 1)],
          undefined,
          { kernel, bias },
        );
      },
    };
  },
};

type PoolAxis = { out: number; before: number; after: number };

/**
 * Darknet's max-pool window along one axis: `padding` (default size-1) in total, padding/2 of it before,
 * out = (len + padding - size)/stride + 1. Returns the output size and the pads before and after.
 */
export function darknetPoolAxis(len: number, size: number, stride: number, padding: number): PoolAxis {
  const out = Math.floor((len + padding - size) / stride) + 1;
  const before = Math.floor(padding / 2);
  return { out, before, after: Math.max((out - 1) * stride + size - len - before, 0) };
}

/** [maxpool] and [local_avgpool] share keys, defaults and geometry; the average counts in-image taps only. */
function windowPool(kind: 'max' | 'avg'): SectionHandler {
  return {
    keys: [
      'size',
      'stride',
      'stride_x',
      'stride_y',
      'padding',
      ...(kind === 'max' ? ['maxpool_depth', 'out_channels'] : []),
    ],
    ignored: kind === 'max' ? ['maxpool_zero_nonmax'] : [],
    plan(o, at) {
      const x = at.shapeOf(at.index - 1);
      if (kind === 'max' && o.int('maxpool_depth', 0) !== 0) return channelMax(o, at, x);
      const { sx, sy, stride } = strides(o);
      const size = o.int('size', stride, { min: 1 });
      const padding = o.int('padding', size - 1, { min: 0 });
      const ay = darknetPoolAxis(x.h, size, sy, padding),
        ax = darknetPoolAxis(x.w, size, sx, padding);
      if (ay.out < 1 || ax.out < 1) {
        o.error('size', `the output would be ${ax.out}×${ay.out} from an input of ${x.w}×${x.h}`);
      }
      return {
        shape: { h: ay.out, w: ax.out, c: x.c },
        weightCount: 0,
        build(b) {
          const padding4 = [ay.before, ay.after, ax.before, ax.after] as const;
          b.add({ kind: 'pool2d', attrs: { kind, size: [size, size], strides: [sy, sx], padding: padding4 } }, [
            b.nodeOf(at.index - 1),
          ]);
        },
      };
    },
  };
}

/**
 * maxpool_depth=1: out channel g = max over input channels g, g+K, g+2K, … (K = out_channels), no spatial
 * pooling. With K dividing C that is a max-pool over the middle axis of the NHWC data viewed as
 * (H·W, C/K, K), so it needs no kernel of its own.
 */
function channelMax(o: Options, at: LayerContext, x: Shape3): PlannedLayer {
  const k = o.int('out_channels', 1, { min: 1 });
  if (x.c % k) {
    o.error(
      'out_channels',
      `${k} does not divide the ${x.c} input channels (a partial channel group is not supported)`,
    );
  }
  const groups = x.c / k;
  return {
    shape: { h: x.h, w: x.w, c: k },
    weightCount: 0,
    build(b) {
      const view = b.add(
        { kind: 'reshape', shape: [x.h * x.w, groups, k] },
        [b.nodeOf(at.index - 1)],
        `${b.name}/groups`,
      );
      const max = { kind: 'pool2d', attrs: { kind: 'max', size: [1, groups], strides: [1, groups] } } as const;
      const pooled = b.add(max, [view], `${b.name}/max`);
      b.add({ kind: 'reshape', shape: [x.h, x.w, k] }, [pooled]);
    },
  };
}

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
    const build = (b: NodeBuilder) => b.add({ kind: 'identity' }, [b.nodeOf(at.index - 1)]);
    return { shape: at.shapeOf(at.index - 1), weightCount: 0, build };
  },
};

/**
 * [reorg] is Darknet's old reorg (yolov2), a permutation that is not a space-to-depth; [reorg3d] is the true
 * space-to-depth (src/ops/reorg.ts has both). Either way C×H×W becomes (C·s²)×(H/s)×(W/s).
 */
function reorg(mode: 'darknet' | 'space-to-depth'): SectionHandler {
  return {
    keys: ['stride', 'reverse'],
    ignored: [],
    plan(o, at) {
      const x = at.shapeOf(at.index - 1);
      const s = o.int('stride', 1, { min: 1 });
      if (o.int('reverse', 0) !== 0) o.error('reverse', 'the reverse reorg is not supported');
      if (x.h % s || x.w % s) o.error('stride', `${s} does not divide the input's ${x.w}×${x.h}`);
      if (mode === 'darknet' && x.c % (s * s)) o.error('stride', `${s}² does not divide the input's ${x.c} channels`);
      return {
        shape: { h: x.h / s, w: x.w / s, c: x.c * s * s },
        weightCount: 0,
        build: (b) => b.add({ kind: 'reorg', stride: s, mode }, [b.nodeOf(at.index - 1)]),
      };
    },
  };
}

/** The sections this loader supports, by the name Darknet gives them (aliases resolved in cfg.ts). */
export const SECTIONS: Record<string, SectionHandler> = {
  convolutional,
  maxpool: windowPool('max'),
  local_avgpool: windowPool('avg'),
  avgpool,
  route,
  shortcut,
  scale_channels: scaleChannels,
  sam,
  upsample,
  dropout,
  reorg: reorg('darknet'),
  reorg3d: reorg('space-to-depth'),
  yolo,
  region,
};

/** Node name of layer `index`: `12_conv`, `13_maxpool`, … */
export const layerName = (index: number, type: string) => `${index}_${type === 'convolutional' ? 'conv' : type}`;
