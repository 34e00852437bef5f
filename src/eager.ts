// Eager op calls: each runs one op now and returns a new Tensor. They build their dispatches with the
// same op families as models (src/ops/) and bind the typed bindings to tensors; the runtime records and
// profiles them with the routine models use. Used by tests, tools, the tuner and the benchmark.
import { UsageError, WebgpuCnnError } from './errors.js';
import { input, output, weight, type Binding, type Dispatch, type TileVariant } from './gpu/dispatch.js';
import { activationDispatch, type Activation } from './ops/activation.js';
import { lowerBatchNorm, type BatchNormParams } from './ops/batchnorm.js';
import { conv2dOutputShape, lowerConv2d, type Conv2dAttrs, type Conv2dVariant } from './ops/conv2d.js';
import { binaryDispatch, broadcastShape, softmaxDispatch, type BinaryOp } from './ops/elementwise.js';
import { chooseGemmVariant, gemmDispatches, splitGemmWeight, type GemmShape, type GemmVariant } from './ops/gemm.js';
import type { Shape } from './ops/grid.js';
import {
  concatOutputShape, flattenShape, padOutputShape, planConcat, planPad, planSlice, planTranspose, planUpsample,
  sliceOutputShape, transposeOutputShape, upsampleOutputShape,
} from './ops/layout.js';
import { globalPoolOutputShape, planGlobalPool, planPool2d, pool2dOutputShape, type Pool2dAttrs } from './ops/pool2d.js';
import type { RunOptions } from './graph/model.js';
import { Tensor } from './tensor.js';

/** The fields of a model's RunOptions that apply to one eager op call. */
export type OpOptions = Pick<RunOptions, 'onTiming' | 'onKernels'>;

/** Runs `dispatches` with each binding resolved to a tensor; `out` is returned (and disposed on failure). */
async function execute(dispatches: Dispatch[], resolve: (b: Binding) => Tensor | undefined, out: Tensor, options?: OpOptions): Promise<Tensor> {
  const ctx = out.ctx;
  options?.onKernels?.(dispatches.map((d) => d.kernel));
  const bound = dispatches.map((dispatch) => ({
    dispatch,
    buffers: dispatch.bindings.map((b) => {
      const t = b.kind === 'output' ? out : resolve(b);
      if (!t) throw new Error(`${dispatch.kernel}: nothing bound to ${JSON.stringify(b)}`);
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

/** Planner errors about shapes become usage errors: an eager call's arguments are the caller's. */
function planned<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WebgpuCnnError) throw e;
    throw new UsageError((e as Error).message);
  }
}

/** Binds input i to inputs[i] and weights by name. */
const binder = (inputs: Tensor[], weights: Record<string, Tensor | undefined> = {}) => (b: Binding) =>
  b.kind === 'input' ? inputs[b.index] : b.kind === 'weight' ? weights[b.name] : undefined;

function zeros(like: Tensor, n: number): Tensor {
  return Tensor.fromArray(like.ctx, new Float32Array(n), [n], 'zeros');
}

/** conv2d on NHWC with HWIO weights; bias optional. */
export async function conv2d(
  x: Tensor, w: Tensor, b: Tensor | null, attrs: Conv2dAttrs, options?: OpOptions & { variant?: Conv2dVariant },
): Promise<Tensor> {
  const kernelShape = w.shape as [number, number, number, number];
  const low = planned(() => lowerConv2d({ attrs, kernelShape }, { caps: x.ctx.caps, inputs: [x.shape], winograd: false, variant: options?.variant as TileVariant }));
  const y = Tensor.empty(x.ctx, conv2dOutputShape(x.shape, w.shape, attrs));
  const bias = b ?? zeros(x, kernelShape[3]);
  try {
    return await execute(low.dispatches, binder([x], { kernel: w, bias }), y, options);
  } finally {
    if (!b) bias.dispose();
  }
}

/** A GEMM right-hand side uploaded once, split into binding-sized column blocks when needed. */
export class GemmWeight {
  private constructor(readonly blocks: Tensor[], readonly k: number, readonly n: number, readonly transB: boolean) {}

  static upload(ctx: Tensor['ctx'], data: Float32Array, k: number, n: number, transB = false): GemmWeight {
    const shape: GemmShape = { m: 1, k, n, transB };
    const blocks = planned(() => splitGemmWeight(data, shape, ctx.caps)).map((part, i) => Tensor.fromArray(ctx, part, [part.length], `gemm weight block ${i}`));
    return new GemmWeight(blocks, k, n, transB);
  }

  dispose(): void {
    this.blocks.forEach((b) => b.dispose());
  }
}

/** C = act(A · B + bias), A of shape [..., k] (leading axes flattened into m). */
export async function gemm(
  a: Tensor, b: GemmWeight, bias: Tensor | null, activation?: Activation, options?: OpOptions & { variant?: GemmVariant },
): Promise<Tensor> {
  const k = a.shape[a.shape.length - 1];
  if (k !== b.k) throw new UsageError(`gemm: A has ${k} columns, B has ${b.k} rows`);
  const m = a.size / k;
  const biasT = bias ?? zeros(a, b.n);
  const dispatches = planned(() => gemmDispatches(
    { m, k, n: b.n, transB: b.transB }, activation, a.ctx.caps,
    { a: input(0), b: (part) => weight('kernel', part), bias: weight('bias'), c: output },
    options?.variant ?? chooseGemmVariant(m, b.n, a.ctx.caps),
  ));
  const y = Tensor.empty(a.ctx, [...a.shape.slice(0, -1), b.n]);
  const resolve = (bd: Binding) => (bd.kind === 'weight' && bd.name === 'kernel' ? b.blocks[bd.part ?? 0] : binder([a], { bias: biasT })(bd));
  try {
    return await execute(dispatches, resolve, y, options);
  } finally {
    if (!bias) biasT.dispose();
  }
}

/** One dispatch from input 0 into a new tensor of `shape`. */
function unary(x: Tensor, dispatch: () => Dispatch, shape: () => Shape, options?: OpOptions): Promise<Tensor> {
  const d = planned(dispatch);
  return execute([d], binder([x]), Tensor.empty(x.ctx, planned(shape)), options);
}

export const pool2d = (x: Tensor, attrs: Pool2dAttrs, options?: OpOptions) =>
  unary(x, () => planPool2d(x.shape, attrs, x.ctx.caps), () => pool2dOutputShape(x.shape, attrs), options);

export const globalPool = (x: Tensor, kind: 'max' | 'avg', options?: OpOptions) =>
  unary(x, () => planGlobalPool(x.shape, kind, x.ctx.caps), () => globalPoolOutputShape(x.shape), options);

/** Inference batch norm along `axis` (default last). */
export async function batchNorm(
  x: Tensor, bn: BatchNormParams, axis = -1, activation?: Activation, options?: OpOptions,
): Promise<Tensor> {
  const ctx = x.ctx;
  const channels = bn.mean.length;
  const low = planned(() => lowerBatchNorm({ axis, epsilon: bn.epsilon, channels, activation }, { caps: ctx.caps, inputs: [x.shape] }));
  const arrays = { mean: bn.mean, variance: bn.variance, ...(bn.gamma ? { gamma: bn.gamma } : {}), ...(bn.beta ? { beta: bn.beta } : {}) };
  const tensors: Record<string, Tensor> = {};
  try {
    for (const use of low.weights) {
      const values = planned(() => (use.direct ? arrays[use.direct as keyof typeof arrays]! : use.make!(arrays)));
      tensors[use.name] = Tensor.fromArray(ctx, values, [values.length], use.name);
    }
    return await execute(low.dispatches, binder([x], tensors), Tensor.empty(ctx, x.shape), options);
  } finally {
    Object.values(tensors).forEach((t) => t.dispose());
  }
}

export const activation = (x: Tensor, act: Activation, options?: OpOptions) =>
  unary(x, () => activationDispatch(x.shape, act, x.ctx.caps), () => x.shape, options);

/** y = act(a ∘ b) with NumPy broadcasting (either operand may stretch). */
export async function binary(op: BinaryOp, a: Tensor, b: Tensor, act?: Activation, options?: OpOptions): Promise<Tensor> {
  const d = planned(() => binaryDispatch(op, a.shape, b.shape, act, a.ctx.caps));
  return execute([d], binder([a, b]), Tensor.empty(a.ctx, broadcastShape(a.shape, b.shape)), options);
}

export const add = (a: Tensor, b: Tensor, act?: Activation, options?: OpOptions) => binary('add', a, b, act, options);

export const softmax = (x: Tensor, options?: OpOptions) => unary(x, () => softmaxDispatch(x.shape, x.ctx.caps), () => x.shape, options);

export async function concat(inputs: Tensor[], axis = -1, options?: OpOptions): Promise<Tensor> {
  const shapes = inputs.map((t) => t.shape);
  const dispatches = planned(() => planConcat(shapes, axis, inputs[0].ctx.caps));
  const y = Tensor.empty(inputs[0].ctx, planned(() => concatOutputShape(shapes, axis)));
  return execute(dispatches, binder(inputs), y, options);
}

/** x[…, begin:begin+size, …] along `axis`. */
export const slice = (x: Tensor, axis: number, begin: number, size: number, options?: OpOptions) =>
  unary(x, () => planSlice(x.shape, axis, begin, size, x.ctx.caps), () => sliceOutputShape(x.shape, axis, size), options);

export const upsample = (x: Tensor, factors: readonly [number, number], options?: OpOptions) =>
  unary(x, () => planUpsample(x.shape, factors, x.ctx.caps), () => upsampleOutputShape(x.shape, factors), options);

export const pad = (x: Tensor, pads: readonly [number, number, number, number], options?: OpOptions) =>
  unary(x, () => planPad(x.shape, pads, x.ctx.caps), () => padOutputShape(x.shape, pads), options);

export const transpose = (x: Tensor, perm: readonly number[], options?: OpOptions) =>
  unary(x, () => planTranspose(x.shape, perm, x.ctx.caps), () => transposeOutputShape(x.shape, perm), options);

/** Keras Flatten (channels-last order): a reshape, no kernel. */
export function flatten(x: Tensor): Tensor {
  return x.reshape(flattenShape(x.shape));
}

/** Flatten in NCHW order (Darknet/PyTorch-style heads): transpose NHWC → NCHW, then reshape. */
export const flattenNchw = (x: Tensor, options?: OpOptions) =>
  unary(x, () => planTranspose(x.shape, [0, 3, 1, 2], x.ctx.caps), () => flattenShape(transposeOutputShape(x.shape, [0, 3, 1, 2])), options);

export type { Shape };
