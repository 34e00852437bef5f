// Representative calls of every kernel family: one list, declared as data (what the op computes and on
// which seeded inputs), run in two modes. The CLI's `kernels` command and the benchmark time them (this
// file); test/op-cases.test.ts checks every one against a float64 reference. Each knows its FLOPs and bytes.
import * as ops from '../eager.js';
import type { GpuContext } from '../gpu/context.js';
import type { Activation } from '../ops/activation.js';
import type { BatchNormParams } from '../ops/batchnorm.js';
import type { Conv2dAttrs } from '../ops/conv2d.js';
import type { Pool2dAttrs } from '../ops/pool2d.js';
import { randomArray } from '../random.js';
import { Tensor } from '../tensor.js';

/** What a case computes, fully: enough for a reference implementation to compute it too. */
export type OpSpec =
  /** transB: B stored n×k, a dense head's layout (the GEMV kernel). */
  | { kind: 'gemm'; m: number; k: number; n: number; transB?: boolean }
  | { kind: 'conv2d'; x: number[]; w: [number, number, number, number]; attrs: Conv2dAttrs }
  | { kind: 'pool2d'; x: number[]; attrs: Pool2dAttrs }
  | { kind: 'global-pool'; x: number[]; pool: 'max' | 'avg' }
  | { kind: 'batchnorm'; x: number[]; params: BatchNormParams; activation: Activation }
  | { kind: 'activation'; x: number[]; activation: Activation }
  /** x + x, then the activation. */
  | { kind: 'add'; x: number[]; activation: Activation }
  | { kind: 'softmax'; x: number[] }
  /** [x, x] along the last axis. */
  | { kind: 'concat'; x: number[] }
  | { kind: 'slice'; x: number[]; axis: number; begin: number; size: number }
  | { kind: 'upsample'; x: number[]; factors: [number, number] }
  | { kind: 'pad'; x: number[]; pads: [number, number, number, number] }
  | { kind: 'transpose'; x: number[]; perm: number[] };

export interface OpCase {
  name: string;
  spec: OpSpec;
  /** Multiply-adds count as 2 FLOPs. */
  flops: number;
  /** Bytes read and written by an ideal implementation (each tensor once). */
  bytes: number;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The case's inputs, from fixed seeds: x (or A), and for convs and GEMMs the weights and bias. */
export function caseInputs(spec: OpSpec): { x: Float32Array; w?: Float32Array; b?: Float32Array } {
  if (spec.kind === 'gemm') return { x: randomArray(spec.m * spec.k, 4), w: randomArray(spec.k * spec.n, 6) };
  if (spec.kind === 'conv2d')
    return { x: randomArray(prod(spec.x), 1), w: randomArray(prod(spec.w), 2), b: randomArray(spec.w[3], 3) };
  return { x: randomArray(prod(spec.x), 5) };
}

/** Uploads the case's inputs; `run` calls the op (options as for any eager call), `dispose` frees the inputs. */
export function setupCase(
  ctx: GpuContext,
  spec: OpSpec,
): { run(options?: ops.OpOptions): Promise<Tensor>; dispose(): void } {
  const inputs = caseInputs(spec);
  if (spec.kind === 'gemm') {
    const a = Tensor.fromArray(ctx, inputs.x, [spec.m, spec.k]);
    const w = ops.GemmWeight.upload(ctx, inputs.w!, spec.k, spec.n, spec.transB);
    return { run: (o) => ops.gemm(a, w, null, undefined, o), dispose: () => (a.dispose(), w.dispose()) };
  }
  const x = Tensor.fromArray(ctx, inputs.x, spec.x);
  if (spec.kind === 'conv2d') {
    const w = Tensor.fromArray(ctx, inputs.w!, spec.w),
      b = Tensor.fromArray(ctx, inputs.b!, [spec.w[3]]);
    return { run: (o) => ops.conv2d(x, w, b, spec.attrs, o), dispose: () => [x, w, b].forEach((t) => t.dispose()) };
  }
  const run = (o: ops.OpOptions = {}): Promise<Tensor> => {
    switch (spec.kind) {
      case 'pool2d':
        return ops.pool2d(x, spec.attrs, o);
      case 'global-pool':
        return ops.globalPool(x, spec.pool, o);
      case 'batchnorm':
        return ops.batchNorm(x, spec.params, -1, spec.activation, o);
      case 'activation':
        return ops.activation(x, spec.activation, o);
      case 'add':
        return ops.add(x, x, spec.activation, o);
      case 'softmax':
        return ops.softmax(x, o);
      case 'concat':
        return ops.concat([x, x], -1, o);
      case 'slice':
        return ops.slice(x, spec.axis, spec.begin, spec.size, o);
      case 'upsample':
        return ops.upsample(x, spec.factors, o);
      case 'pad':
        return ops.pad(x, spec.pads, o);
      case 'transpose':
        return ops.transpose(x, spec.perm, o);
    }
  };
  return { run, dispose: () => x.dispose() };
}

function conv(
  name: string,
  x: number[],
  k: number,
  oc: number,
  opts: { stride?: number; groups?: number } = {},
): OpCase {
  const groups = opts.groups ?? 1,
    s = opts.stride ?? 1;
  const [n, h, w, c] = x;
  const [oh, ow] = [Math.ceil(h / s), Math.ceil(w / s)];
  const attrs: Conv2dAttrs = { padding: 'same', strides: [s, s], groups, activation: { kind: 'leaky', alpha: 0.1 } };
  return {
    name,
    spec: { kind: 'conv2d', x, w: [k, k, c / groups, oc], attrs },
    flops: 2 * n * oh * ow * oc * k * k * (c / groups),
    bytes: 4 * (prod(x) + k * k * (c / groups) * oc + n * oh * ow * oc),
  };
}

const gemm = (m: number, k: number, n: number, transB = false): OpCase => ({
  name: transB ? `dense head ${m}×${k}×${n} (GEMV)` : `gemm ${m}×${k}×${n}`,
  spec: { kind: 'gemm', m, k, n, transB },
  flops: 2 * m * k * n,
  bytes: 4 * (m * k + k * n + m * n),
});

const light = (name: string, spec: OpSpec & { x: number[] }, outElems: number, flopsPerOut: number): OpCase => ({
  name,
  spec,
  flops: outElems * flopsPerOut,
  bytes: 4 * (prod(spec.x) + outElems),
});

/** `size` 'small' finishes in about a second on a software adapter; 'full' is the benchmark's. */
export function opCases(size: 'small' | 'full'): OpCase[] {
  const big = size === 'full';
  const x = big ? [1, 56, 56, 256] : [1, 28, 28, 64];
  const [n, h, w, c] = x;
  const all = n * h * w * c;
  const params: BatchNormParams = {
    mean: randomArray(c, 7),
    variance: randomArray(c, 8, 0.5, 1.5),
    gamma: randomArray(c, 9, 0.5, 2),
    beta: randomArray(c, 10),
    epsilon: 1e-3,
  };
  return [
    big ? gemm(1024, 1024, 1024) : gemm(256, 256, 256),
    gemm(1, big ? 25088 : 4096, big ? 4096 : 1024),
    gemm(1, big ? 25088 : 4096, big ? 4096 : 1024, true),
    conv(`conv 3×3 ${c}→${c} VGG-style`, x, 3, c),
    conv(`conv 3×3 stride 2 ${c}→${2 * c}`, x, 3, 2 * c, { stride: 2 }),
    conv(`conv 1×1 ${c}→${c / 2}`, x, 1, c / 2),
    conv(`depthwise 3×3 ×${c}`, x, 3, c, { groups: c }),
    light('maxpool 2×2/2', { kind: 'pool2d', x, attrs: { kind: 'max', size: [2, 2] } }, all / 4, 4),
    light(
      'avgpool 3×3/1 same',
      { kind: 'pool2d', x, attrs: { kind: 'avg', size: [3, 3], strides: [1, 1], padding: 'same' } },
      all,
      9,
    ),
    light('global average pool', { kind: 'global-pool', x, pool: 'avg' }, n * c, h * w),
    light('batchnorm + leaky', { kind: 'batchnorm', x, params, activation: { kind: 'leaky', alpha: 0.1 } }, all, 4),
    light('sigmoid', { kind: 'activation', x, activation: { kind: 'sigmoid' } }, all, 4),
    light('residual add + relu', { kind: 'add', x, activation: { kind: 'relu' } }, all, 2),
    light('softmax 1000', { kind: 'softmax', x: [big ? 64 : 4, 1000] }, (big ? 64 : 4) * 1000, 4),
    light('concat 2 × channels', { kind: 'concat', x }, 2 * all, 0),
    light('channel slice (route group)', { kind: 'slice', x, axis: -1, begin: c / 2, size: c / 2 }, all / 2, 0),
    light('upsample ×2', { kind: 'upsample', x, factors: [2, 2] }, 4 * all, 0),
    light('zero pad 1', { kind: 'pad', x, pads: [1, 1, 1, 1] }, n * (h + 2) * (w + 2) * c, 0),
    light('NHWC → NCHW', { kind: 'transpose', x, perm: [0, 3, 1, 2] }, all, 0),
  ];
}
