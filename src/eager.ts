// Eager op calls: each runs one op now and returns a new Tensor. Used by tests, tools and the
// benchmark; models use the graph executor instead, which plans buffers and pipelines once.
import type { KernelTiming } from './gpu/context.js';
import { type Activation, planActivation } from './ops/activation.js';
import { planBatchNorm, batchNormAffine, type BatchNormParams } from './ops/batchnorm.js';
import { conv2dOutputShape, planConv2d, type Conv2dAttrs, type Conv2dVariant } from './ops/conv2d.js';
import { planBinary, planSoftmax, type BinaryOp } from './ops/elementwise.js';
import { chooseGemmVariant, planGemm, splitGemmWeight, type GemmShape, type GemmVariant } from './ops/gemm.js';
import type { KernelCall, Shape } from './ops/kernel-call.js';
import {
  concatOutputShape, flattenShape, padOutputShape, planConcat, planPad, planSlice, planTranspose, planUpsample,
  sliceOutputShape, transposeOutputShape, upsampleOutputShape,
} from './ops/layout.js';
import { globalPoolOutputShape, planGlobalPool, planPool2d, pool2dOutputShape, type Pool2dAttrs } from './ops/pool2d.js';
import { Tensor } from './tensor.js';
import { UsageError } from './errors.js';

export interface RunOptions {
  /** Receives per-kernel timestamps when the adapter has timestamp queries. */
  onTiming?: (timings: KernelTiming[]) => void;
}

async function execute(
  calls: KernelCall[], tensors: Record<string, Tensor>, out: Tensor, options?: RunOptions,
): Promise<Tensor> {
  const ctx = out.ctx;
  const bound = calls.map((call) => ({
    call,
    // Every kernel's last binding is its output.
    buffers: call.bindings.map((role, i) => {
      const t = i === call.bindings.length - 1 ? out : tensors[role];
      if (!t) throw new Error(`${call.kernel}: no tensor for binding '${role}'`);
      return t.buffer;
    }),
  }));
  try {
    const timings = await ctx.run(bound, { profile: !!options?.onTiming });
    if (timings) options?.onTiming?.(timings);
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}

function zeros(like: Tensor, n: number): Tensor {
  return Tensor.fromArray(like.ctx, new Float32Array(n), [n], 'zeros');
}

/** conv2d on NHWC with HWIO weights; bias optional. */
export async function conv2d(
  x: Tensor, w: Tensor, b: Tensor | null, attrs: Conv2dAttrs, options?: RunOptions & { variant?: Conv2dVariant },
): Promise<Tensor> {
  const calls = planConv2d(x.shape, w.shape, attrs, x.ctx.caps, options?.variant);
  const y = Tensor.empty(x.ctx, conv2dOutputShape(x.shape, w.shape, attrs));
  const bias = b ?? zeros(x, w.shape[3]);
  try {
    return await execute(calls, { x, w, b: bias }, y, options);
  } finally {
    if (!b) bias.dispose();
  }
}

/** A GEMM right-hand side uploaded once, split into binding-sized column blocks when needed. */
export class GemmWeight {
  private constructor(readonly blocks: Tensor[], readonly k: number, readonly n: number, readonly transB: boolean) {}

  static upload(ctx: Tensor['ctx'], data: Float32Array, k: number, n: number, transB = false): GemmWeight {
    const shape: GemmShape = { m: 1, k, n, transB };
    const blocks = splitGemmWeight(data, shape, ctx.caps).map((part, i) =>
      Tensor.fromArray(ctx, part, [part.length], `gemm weight block ${i}`),
    );
    return new GemmWeight(blocks, k, n, transB);
  }

  dispose(): void {
    this.blocks.forEach((b) => b.dispose());
  }
}

/** C = act(A · B + bias), A of shape [..., k] (leading axes flattened into m). */
export async function gemm(
  a: Tensor, b: GemmWeight, bias: Tensor | null, activation?: Activation, options?: RunOptions & { variant?: GemmVariant },
): Promise<Tensor> {
  const k = a.shape[a.shape.length - 1];
  if (k !== b.k) throw new UsageError(`gemm: A has ${k} columns, B has ${b.k} rows`);
  const m = a.size / k;
  const calls = planGemm({ m, k, n: b.n, transB: b.transB }, activation, a.ctx.caps, options?.variant ?? chooseGemmVariant(m, b.n, a.ctx.caps));
  const y = Tensor.empty(a.ctx, [...a.shape.slice(0, -1), b.n]);
  const biasT = bias ?? zeros(a, b.n);
  const tensors: Record<string, Tensor> = { a, bias: biasT };
  b.blocks.forEach((t, i) => (tensors[`b#${i}`] = t));
  try {
    return await execute(calls, tensors, y, options);
  } finally {
    if (!bias) biasT.dispose();
  }
}

export async function pool2d(x: Tensor, attrs: Pool2dAttrs, options?: RunOptions): Promise<Tensor> {
  return execute([planPool2d(x.shape, attrs, x.ctx.caps)], { x }, Tensor.empty(x.ctx, pool2dOutputShape(x.shape, attrs)), options);
}

export async function globalPool(x: Tensor, kind: 'max' | 'avg', options?: RunOptions): Promise<Tensor> {
  return execute([planGlobalPool(x.shape, kind, x.ctx.caps)], { x }, Tensor.empty(x.ctx, globalPoolOutputShape(x.shape)), options);
}

/** Inference batch norm along `axis` (default last). */
export async function batchNorm(
  x: Tensor, bn: BatchNormParams, axis = -1, activation?: Activation, options?: RunOptions,
): Promise<Tensor> {
  const ctx = x.ctx;
  const { gamma, beta } = batchNormAffine(bn);
  const c = bn.mean.length;
  const vecs = {
    gamma: Tensor.fromArray(ctx, gamma, [c], 'gamma'),
    beta: Tensor.fromArray(ctx, beta, [c], 'beta'),
    mean: Tensor.fromArray(ctx, bn.mean, [c], 'mean'),
    variance: Tensor.fromArray(ctx, bn.variance, [c], 'variance'),
  };
  const call = planBatchNorm(x.shape, axis, bn.epsilon, activation, ctx.caps);
  if (call.params.channels !== c) {
    Object.values(vecs).forEach((t) => t.dispose());
    throw new UsageError(`batchnorm: axis ${axis} has ${call.params.channels} entries, parameters have ${c}`);
  }
  try {
    return await execute([call], { x, ...vecs }, Tensor.empty(ctx, x.shape), options);
  } finally {
    Object.values(vecs).forEach((t) => t.dispose());
  }
}

export async function activation(x: Tensor, act: Activation, options?: RunOptions): Promise<Tensor> {
  return execute([planActivation(x.shape, act, x.ctx.caps)], { x }, Tensor.empty(x.ctx, x.shape), options);
}

export async function binary(op: BinaryOp, a: Tensor, b: Tensor, act?: Activation, options?: RunOptions): Promise<Tensor> {
  return execute([planBinary(op, a.shape, b.shape, act, a.ctx.caps)], { a, b }, Tensor.empty(a.ctx, a.shape), options);
}

export const add = (a: Tensor, b: Tensor, act?: Activation, options?: RunOptions) => binary('add', a, b, act, options);

export async function softmax(x: Tensor, options?: RunOptions): Promise<Tensor> {
  return execute([planSoftmax(x.shape, x.ctx.caps)], { x }, Tensor.empty(x.ctx, x.shape), options);
}

export async function concat(inputs: Tensor[], axis = -1, options?: RunOptions): Promise<Tensor> {
  const shapes = inputs.map((t) => t.shape);
  const tensors: Record<string, Tensor> = {};
  inputs.forEach((t, i) => (tensors[`x#${i}`] = t));
  const y = Tensor.empty(inputs[0].ctx, concatOutputShape(shapes, axis));
  return execute(planConcat(shapes, axis, y.ctx.caps), tensors, y, options);
}

/** x[…, begin:begin+size, …] along `axis`. */
export async function slice(x: Tensor, axis: number, begin: number, size: number, options?: RunOptions): Promise<Tensor> {
  return execute([planSlice(x.shape, axis, begin, size, x.ctx.caps)], { x }, Tensor.empty(x.ctx, sliceOutputShape(x.shape, axis, size)), options);
}

export async function upsample(x: Tensor, factors: readonly [number, number], options?: RunOptions): Promise<Tensor> {
  return execute([planUpsample(x.shape, factors, x.ctx.caps)], { x }, Tensor.empty(x.ctx, upsampleOutputShape(x.shape, factors)), options);
}

export async function pad(x: Tensor, pads: readonly [number, number, number, number], options?: RunOptions): Promise<Tensor> {
  return execute([planPad(x.shape, pads, x.ctx.caps)], { x }, Tensor.empty(x.ctx, padOutputShape(x.shape, pads)), options);
}

export async function transpose(x: Tensor, perm: readonly number[], options?: RunOptions): Promise<Tensor> {
  return execute([planTranspose(x.shape, perm, x.ctx.caps)], { x }, Tensor.empty(x.ctx, transposeOutputShape(x.shape, perm)), options);
}

/** Keras Flatten (channels-last order): a reshape, no kernel. */
export function flatten(x: Tensor): Tensor {
  return x.reshape(flattenShape(x.shape));
}

/** Flatten in NCHW order (Darknet/PyTorch-style heads): transpose NHWC → NCHW, then reshape. */
export async function flattenNchw(x: Tensor, options?: RunOptions): Promise<Tensor> {
  const nchw = transposeOutputShape(x.shape, [0, 3, 1, 2]);
  const y = Tensor.empty(x.ctx, flattenShape(nchw));
  return execute([planTranspose(x.shape, [0, 3, 1, 2], x.ctx.caps)], { x }, y, options);
}

export type { Shape };
