// Representative calls of every kernel, each knowing its FLOPs and bytes moved. The CLI's `kernels`
// command runs the small set once; the benchmark runs the full-size set many times.
import * as ops from '../eager.js';
import type { GpuContext } from '../gpu/context.js';
import { randomArray } from '../random.js';
import { Tensor } from '../tensor.js';

export interface OpCase {
  name: string;
  kernel: string;
  /** Multiply-adds count as 2 FLOPs. */
  flops: number;
  /** Bytes read and written by an ideal implementation (each tensor once). */
  bytes: number;
  /** Uploads inputs and returns the op to time; `dispose` frees the inputs. */
  setup(ctx: GpuContext): { run(onTiming?: ops.RunOptions['onTiming']): Promise<Tensor>; dispose(): void };
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function filled(ctx: GpuContext, shape: number[], seed: number): Tensor {
  return Tensor.fromArray(ctx, randomArray(prod(shape), seed), shape);
}

function convCase(name: string, x: number[], k: number, oc: number, opts: { stride?: number; groups?: number } = {}): OpCase {
  const groups = opts.groups ?? 1;
  const s = opts.stride ?? 1;
  const [n, h, w, c] = x;
  const [oh, ow] = [Math.ceil(h / s), Math.ceil(w / s)];
  const macs = n * oh * ow * oc * k * k * (c / groups);
  return {
    name, kernel: groups === c && groups > 1 ? 'depthwise-conv2d' : k === 1 && s === 1 ? 'gemm (1×1 conv)' : 'conv2d',
    flops: 2 * macs,
    bytes: 4 * (prod(x) + k * k * (c / groups) * oc + n * oh * ow * oc),
    setup(ctx) {
      const xt = filled(ctx, x, 1), wt = filled(ctx, [k, k, c / groups, oc], 2), bt = filled(ctx, [oc], 3);
      return {
        run: (onTiming) => ops.conv2d(xt, wt, bt, { padding: 'same', strides: [s, s], groups, activation: { kind: 'leaky', alpha: 0.1 } }, { onTiming }),
        dispose: () => [xt, wt, bt].forEach((t) => t.dispose()),
      };
    },
  };
}

function gemmCase(m: number, k: number, n: number): OpCase {
  return {
    name: `gemm ${m}×${k}×${n}`, kernel: 'gemm', flops: 2 * m * k * n, bytes: 4 * (m * k + k * n + m * n),
    setup(ctx) {
      const a = filled(ctx, [m, k], 4);
      const w = ops.GemmWeight.upload(ctx, randomArray(k * n, 6), k, n);
      return { run: (onTiming) => ops.gemm(a, w, null, undefined, { onTiming }), dispose: () => { a.dispose(); w.dispose(); } };
    },
  };
}

function unaryCase(name: string, kernel: string, shape: number[], outElems: number, flopsPerOut: number, f: (x: Tensor, o: ops.RunOptions) => Promise<Tensor>): OpCase {
  return {
    name, kernel, flops: outElems * flopsPerOut, bytes: 4 * (prod(shape) + outElems),
    setup(ctx) {
      const x = filled(ctx, shape, 5);
      return { run: (onTiming) => f(x, { onTiming }), dispose: () => x.dispose() };
    },
  };
}

/** `size` 'small' finishes in about a second on a software adapter; 'full' is the benchmark's. */
export function opCases(size: 'small' | 'full'): OpCase[] {
  const big = size === 'full';
  const img = big ? [1, 56, 56, 256] : [1, 28, 28, 64];
  const [n, h, w, c] = img;
  const bnParams = { mean: new Float32Array(c), variance: new Float32Array(c).fill(1), gamma: new Float32Array(c).fill(2), beta: new Float32Array(c), epsilon: 1e-3 };
  return [
    big ? gemmCase(1024, 1024, 1024) : gemmCase(256, 256, 256),
    gemmCase(1, big ? 25088 : 4096, big ? 4096 : 1024),
    convCase(`conv 3×3 ${c}→${c} VGG-style`, img, 3, c),
    convCase(`conv 3×3 stride 2 ${c}→${2 * c}`, img, 3, 2 * c, { stride: 2 }),
    convCase(`conv 1×1 ${c}→${c / 2}`, img, 1, c / 2),
    convCase(`depthwise 3×3 ×${c}`, img, 3, c, { groups: c }),
    unaryCase('maxpool 2×2/2', 'pool2d', img, (n * h * w * c) / 4, 4, (x, o) => ops.pool2d(x, { kind: 'max', size: [2, 2] }, o)),
    unaryCase('avgpool 3×3/1 same', 'pool2d', img, n * h * w * c, 9, (x, o) => ops.pool2d(x, { kind: 'avg', size: [3, 3], strides: [1, 1], padding: 'same' }, o)),
    unaryCase('global average pool', 'global-pool', img, n * c, h * w, (x, o) => ops.globalPool(x, 'avg', o)),
    unaryCase('batchnorm + leaky', 'batchnorm', img, n * h * w * c, 4, (x, o) => ops.batchNorm(x, bnParams, -1, { kind: 'leaky', alpha: 0.1 }, o)),
    unaryCase('sigmoid', 'activation', img, n * h * w * c, 4, (x, o) => ops.activation(x, { kind: 'sigmoid' }, o)),
    unaryCase('residual add + relu', 'binary', img, n * h * w * c, 2, (x, o) => ops.add(x, x, { kind: 'relu' }, o)),
    unaryCase('softmax 1000', 'softmax', [big ? 64 : 4, 1000], (big ? 64 : 4) * 1000, 4, (x, o) => ops.softmax(x, o)),
    unaryCase('concat 2 × channels', 'concat', img, 2 * n * h * w * c, 0, (x, o) => ops.concat([x, x], -1, o)),
    unaryCase('channel slice (route group)', 'slice', img, (n * h * w * c) / 2, 0, (x, o) => ops.slice(x, -1, c / 2, c / 2, o)),
    unaryCase('upsample ×2', 'upsample', img, 4 * n * h * w * c, 0, (x, o) => ops.upsample(x, [2, 2], o)),
    unaryCase('zero pad 1', 'pad', img, n * (h + 2) * (w + 2) * c, 0, (x, o) => ops.pad(x, [1, 1, 1, 1], o)),
    unaryCase('NHWC → NCHW', 'transpose', img, n * h * w * c, 0, (x, o) => ops.transpose(x, [0, 3, 1, 2], o)),
  ];
}
