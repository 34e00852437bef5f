// Eager op calls: each runs one op now and returns a new Tensor. They build their dispatches with the
// same op families as models (src/ops/) and bind the typed bindings to tensors; the runtime records and
// profiles them with the routine models use. Used by tests, tools, the tuner and the benchmark.
import { UsageError, WebgpuCnnError } from './errors.js';
import { input, output, weight, type Binding, type Dispatch, type TileVariant } from './gpu/dispatch.js';
import { activationDispatch, type Activation } from './ops/activation.js';
import { lowerBatchNorm, type BatchNormParams } from './ops/batchnorm.js';
import { conv2dOutputShape, lowerConv2d, type Conv2dAttrs, type Conv2dVariant } from './ops/conv2d.js';
import { binaryDispatch, broadcastShape, softmaxDispatch, type BinaryOp } from './ops/elementwise.js';
import {
  chooseGemmVariant,
  gemmDispatches,
  splitGemmWeight,
  transposedGemmDispatches,
  type GemmOperands,
  type GemmShape,
  type GemmVariant,
} from './ops/gemm.js';
import type { Shape } from './ops/grid.js';
import {
  concatOutputShape,
  flattenShape,
  padOutputShape,
  planConcat,
  planPad,
  planSlice,
  planTranspose,
  planUpsample,
  sliceOutputShape,
  transposeOutputShape,
  upsampleOutputShape,
} from './ops/layout.js';
import {
  globalPoolOutputShape,
  planGlobalPool,
  planPool2d,
  pool2dOutputShape,
  type Pool2dAttrs,
} from './ops/pool2d.js';
import type { RunOptions } from './graph/model.js';
import { Tensor } from './tensor.js';

/** The fields of a model's RunOptions that apply to one eager op call. */
export type OpOptions = Pick<RunOptions, 'onTiming' | 'onKernels'>;

/** Runs `dispatches` with each binding resolved to a tensor; `out` is returned (and disposed on failure). */
async function execute(
  dispatches: Dispatch[],
  resolve: (b: Binding) => Tensor | undefined,
  out: Tensor,
  options?: OpOptions,
): Promise<Tensor> {
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

const describe = (v: unknown) =>
  v === null
    ? 'null'
    : v === undefined
      ? 'undefined'
      : typeof v === 'object'
        ? (v.constructor?.name ?? 'an object')
        : typeof v;

/**
 * Checks an eager call's tensor arguments (JavaScript callers pass anything): each a live Tensor on the
 * first one's context. A named error here beats Dawn's about a buffer.
 */
function checkTensors(op: string, args: Record<string, unknown>): void {
  let ctx: Tensor['ctx'] | undefined;
  for (const [name, v] of Object.entries(args)) {
    if (!(v instanceof Tensor)) throw new UsageError(`${op}: ${name} must be a Tensor, got ${describe(v)}`);
    if (v.disposed) throw new UsageError(`${op}: ${name} was disposed`);
    ctx ??= v.ctx;
    if (v.ctx !== ctx) throw new UsageError(`${op}: ${name} is on another GpuContext than ${Object.keys(args)[0]}`);
  }
}

/** A per-channel vector argument: a Tensor as is, or an array uploaded for this call (`temporary`). */
function vectorArg(
  op: string,
  name: string,
  like: Tensor,
  v: Tensor | Float32Array | readonly number[],
  n: number,
): { t: Tensor; temporary: boolean } {
  if (v instanceof Tensor) {
    checkTensors(op, { x: like, [name]: v });
    if (v.size !== n) throw new UsageError(`${op}: ${name} has ${v.size} values, expected ${n}`);
    return { t: v, temporary: false };
  }
  if (!(v instanceof Float32Array) && !Array.isArray(v))
    throw new UsageError(`${op}: ${name} must be a Tensor, a Float32Array or null, got ${describe(v)}`);
  if (v.length !== n) throw new UsageError(`${op}: ${name} has ${v.length} values, expected ${n}`);
  return { t: Tensor.fromArray(like.ctx, v, [n], name), temporary: true };
}

/** Binds input i to inputs[i] and weights by name. */
const binder =
  (inputs: Tensor[], weights: Record<string, Tensor | undefined> = {}) =>
  (b: Binding) =>
    b.kind === 'input' ? inputs[b.index] : b.kind === 'weight' ? weights[b.name] : undefined;

function zeros(like: Tensor, n: number): Tensor {
  return Tensor.fromArray(like.ctx, new Float32Array(n), [n], 'zeros');
}

/** conv2d on NHWC with HWIO weights; bias optional (a Tensor, or values uploaded for the call). */
export async function conv2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | Float32Array | readonly number[] | null,
  attrs: Conv2dAttrs,
  options?: OpOptions & { variant?: Conv2dVariant },
): Promise<Tensor> {
  checkTensors('conv2d', { x, kernel: w });
  if (w.shape.length !== 4) throw new UsageError(`conv2d: kernel must be HWIO (4 axes), got [${w.shape.join(', ')}]`);
  const kernelShape = w.shape as [number, number, number, number];
  const low = planned(() =>
    lowerConv2d(
      { attrs, kernelShape },
      { caps: x.ctx.caps, inputs: [x.shape], winograd: false, variant: options?.variant as TileVariant },
    ),
  );
  const bias =
    b === null || b === undefined
      ? { t: zeros(x, kernelShape[3]), temporary: true }
      : vectorArg('conv2d', 'bias', x, b, kernelShape[3]);
  try {
    const y = Tensor.empty(
      x.ctx,
      planned(() => conv2dOutputShape(x.shape, w.shape, attrs)),
    );
    return await execute(low.dispatches, binder([x], { kernel: w, bias: bias.t }), y, options);
  } finally {
    if (bias.temporary) bias.t.dispose();
  }
}

/** A GEMM right-hand side uploaded once, split into binding-sized column blocks when needed. */
export class GemmWeight {
  private constructor(
    readonly blocks: Tensor[],
    readonly k: number,
    readonly n: number,
    readonly transB: boolean,
  ) {}

  static upload(ctx: Tensor['ctx'], data: Float32Array, k: number, n: number, transB = false): GemmWeight {
    const shape: GemmShape = { m: 1, k, n, transB };
    const blocks = planned(() => splitGemmWeight(data, shape, ctx.caps)).map((part, i) =>
      Tensor.fromArray(ctx, part, [part.length], `gemm weight block ${i}`),
    );
    return new GemmWeight(blocks, k, n, transB);
  }

  dispose(): void {
    this.blocks.forEach((b) => b.dispose());
  }
}

/** C = act(A · B + bias), A of shape [..., k] (leading axes flattened into m); bias optional, as for conv2d. */
export async function gemm(
  a: Tensor,
  b: GemmWeight,
  bias: Tensor | Float32Array | readonly number[] | null,
  activation?: Activation,
  options?: OpOptions & { variant?: GemmVariant },
): Promise<Tensor> {
  checkTensors('gemm', { a });
  if (!(b instanceof GemmWeight))
    throw new UsageError(`gemm: b must be a GemmWeight (GemmWeight.upload), got ${describe(b)}`);
  const k = a.shape[a.shape.length - 1];
  if (k !== b.k) throw new UsageError(`gemm: A has ${k} columns, B has ${b.k} rows`);
  const m = a.size / k;
  const io: GemmOperands = { a: input(0), b: (part) => weight('kernel', part), bias: weight('bias'), c: output };
  const shape = { m, k, n: b.n, transB: b.transB };
  // A transposed B (each output's weights contiguous) is a dense head's layout: the GEMV for few rows.
  const dispatches = planned(() =>
    b.transB && !options?.variant
      ? transposedGemmDispatches(shape, activation, a.ctx.caps, io)
      : gemmDispatches(
          shape,
          activation,
          a.ctx.caps,
          io,
          options?.variant ?? chooseGemmVariant(m, b.n, a.ctx.caps, false, k),
        ),
  );
  const biasT =
    bias === null || bias === undefined
      ? { t: zeros(a, b.n), temporary: true }
      : vectorArg('gemm', 'bias', a, bias, b.n);
  const y = Tensor.empty(a.ctx, [...a.shape.slice(0, -1), b.n]);
  const resolve = (bd: Binding) =>
    bd.kind === 'weight' && bd.name === 'kernel' ? b.blocks[bd.part ?? 0] : binder([a], { bias: biasT.t })(bd);
  try {
    return await execute(dispatches, resolve, y, options);
  } finally {
    if (biasT.temporary) biasT.t.dispose();
  }
}

/** One dispatch from input 0 into a new tensor of `shape`; `op` names the call in errors. */
async function unary(
  op: string,
  x: Tensor,
  dispatch: () => Dispatch,
  shape: () => Shape,
  options?: OpOptions,
): Promise<Tensor> {
  checkTensors(op, { x });
  const d = planned(dispatch);
  return execute([d], binder([x]), Tensor.empty(x.ctx, planned(shape)), options);
}

export const pool2d = (x: Tensor, attrs: Pool2dAttrs, options?: OpOptions) =>
  unary(
    'pool2d',
    x,
    () => planPool2d(x.shape, attrs, x.ctx.caps),
    () => pool2dOutputShape(x.shape, attrs),
    options,
  );

export const globalPool = (x: Tensor, kind: 'max' | 'avg', options?: OpOptions) =>
  unary(
    'globalPool',
    x,
    () => planGlobalPool(x.shape, kind, x.ctx.caps),
    () => globalPoolOutputShape(x.shape),
    options,
  );

/** Inference batch norm along `axis` (default last). */
export async function batchNorm(
  x: Tensor,
  bn: BatchNormParams,
  axis = -1,
  activation?: Activation,
  options?: OpOptions,
): Promise<Tensor> {
  checkTensors('batchNorm', { x });
  const ctx = x.ctx;
  const channels = bn.mean.length;
  const low = planned(() =>
    lowerBatchNorm({ axis, epsilon: bn.epsilon, channels, activation }, { caps: ctx.caps, inputs: [x.shape] }),
  );
  const arrays = {
    mean: bn.mean,
    variance: bn.variance,
    ...(bn.gamma ? { gamma: bn.gamma } : {}),
    ...(bn.beta ? { beta: bn.beta } : {}),
  };
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
  unary(
    'activation',
    x,
    () => activationDispatch(x.shape, act, x.ctx.caps),
    () => x.shape,
    options,
  );

/** y = act(a ∘ b) with NumPy broadcasting (either operand may stretch). */
export async function binary(
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  act?: Activation,
  options?: OpOptions,
): Promise<Tensor> {
  checkTensors(op, { a, b });
  const d = planned(() => binaryDispatch(op, a.shape, b.shape, act, a.ctx.caps));
  return execute([d], binder([a, b]), Tensor.empty(a.ctx, broadcastShape(a.shape, b.shape)), options);
}

export const add = (a: Tensor, b: Tensor, act?: Activation, options?: OpOptions) => binary('add', a, b, act, options);

export const softmax = (x: Tensor, options?: OpOptions) =>
  unary(
    'softmax',
    x,
    () => softmaxDispatch(x.shape, x.ctx.caps),
    () => x.shape,
    options,
  );

export async function concat(inputs: Tensor[], axis = -1, options?: OpOptions): Promise<Tensor> {
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new UsageError('concat: inputs must be a non-empty array of Tensors');
  checkTensors('concat', Object.fromEntries(inputs.map((t, i) => [`inputs[${i}]`, t])));
  const shapes = inputs.map((t) => t.shape);
  const dispatches = planned(() => planConcat(shapes, axis, inputs[0].ctx.caps));
  const y = Tensor.empty(
    inputs[0].ctx,
    planned(() => concatOutputShape(shapes, axis)),
  );
  return execute(dispatches, binder(inputs), y, options);
}

/** x[…, begin:begin+size, …] along `axis`. */
export const slice = (x: Tensor, axis: number, begin: number, size: number, options?: OpOptions) =>
  unary(
    'slice',
    x,
    () => planSlice(x.shape, axis, begin, size, x.ctx.caps),
    () => sliceOutputShape(x.shape, axis, size),
    options,
  );

export const upsample = (x: Tensor, factors: readonly [number, number], options?: OpOptions) =>
  unary(
    'upsample',
    x,
    () => planUpsample(x.shape, factors, x.ctx.caps),
    () => upsampleOutputShape(x.shape, factors),
    options,
  );

export const pad = (x: Tensor, pads: readonly [number, number, number, number], options?: OpOptions) =>
  unary(
    'pad',
    x,
    () => planPad(x.shape, pads, x.ctx.caps),
    () => padOutputShape(x.shape, pads),
    options,
  );

export const transpose = (x: Tensor, perm: readonly number[], options?: OpOptions) =>
  unary(
    'transpose',
    x,
    () => planTranspose(x.shape, perm, x.ctx.caps),
    () => transposeOutputShape(x.shape, perm),
    options,
  );

/** Keras Flatten (channels-last order): a reshape, no kernel. */
export function flatten(x: Tensor): Tensor {
  return x.reshape(flattenShape(x.shape));
}

/** Flatten in NCHW order (Darknet/PyTorch-style heads): transpose NHWC → NCHW, then reshape. */
export const flattenNchw = (x: Tensor, options?: OpOptions) =>
  unary(
    'flattenNchw',
    x,
    () => planTranspose(x.shape, [0, 3, 1, 2], x.ctx.caps),
    () => flattenShape(transposeOutputShape(x.shape, [0, 3, 1, 2])),
    options,
  );

export type { Shape };
