// Inference batch normalisation, standalone or folded into the preceding convolution, and Rescaling
// (x·scale + offset), which the same kernel computes.
import { input, output, weight, type Dispatch } from '../gpu/dispatch.js';
import { activationParams, type Activation } from './activation.js';
import { ELEMENTWISE_WG, grid1d, sizeOf } from './grid.js';
import type { LowerContext, Lowering, NodeWeights, WeightUse } from './lowering.js';

export interface BatchNormParams {
  /** Omitted when the layer has scale=False (γ = 1). */
  gamma?: Float32Array;
  /** Omitted when the layer has center=False (β = 0). */
  beta?: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** A batch-norm node: along `axis` (negative counts from the end). Weights: gamma?, beta?, mean, variance. */
export interface BatchNormOp {
  axis: number;
  epsilon: number;
  /** Entries of mean and variance. */
  channels: number;
  activation?: Activation;
}

/** γ and β with Keras's center/scale defaults filled in. */
function batchNormAffine(bn: Pick<BatchNormParams, 'gamma' | 'beta' | 'mean' | 'variance'>): {
  gamma: Float32Array;
  beta: Float32Array;
} {
  const c = bn.mean.length;
  for (const [name, v] of [
    ['gamma', bn.gamma],
    ['beta', bn.beta],
    ['variance', bn.variance],
  ] as const) {
    if (v && v.length !== c) throw new Error(`batchnorm: ${name} has ${v.length} values, mean has ${c}`);
  }
  return { gamma: bn.gamma ?? new Float32Array(c).fill(1), beta: bn.beta ?? new Float32Array(c) };
}

/** y = act((x − mean)·γ/√(variance + ε) + β) over one axis. */
function batchNormLowering(
  x: readonly number[],
  axis: number,
  epsilon: number,
  activation: Activation | undefined,
  ctx: LowerContext,
  weights: WeightUse[],
): Lowering {
  const ax = axis < 0 ? x.length + axis : axis;
  if (ax < 0 || ax >= x.length) throw new Error(`batchnorm: axis ${axis} out of range for shape [${x.join(', ')}]`);
  const total = sizeOf(x);
  const bindings = [input(0), weight('gamma'), weight('beta'), weight('mean'), weight('variance'), output];
  const act = activationParams(activation);
  // The last axis in channel quads: by quads (batchnorm-vec4), several times faster on a CPU adapter.
  const byQuads = ax === x.length - 1 && x[ax] % 4 === 0;
  const dispatch: Dispatch = byQuads
    ? {
        kernel: 'batchnorm-vec4',
        spec: { WG: ELEMENTWISE_WG },
        params: { quads: total / 4, channel_quads: x[ax] / 4, epsilon, ...act },
        workgroups: grid1d(total / 4, ELEMENTWISE_WG, ctx.caps),
        bindings,
      }
    : {
        kernel: 'batchnorm',
        spec: { WG: ELEMENTWISE_WG },
        params: { total, channels: x[ax], inner: sizeOf(x.slice(ax + 1)), epsilon, ...act },
        workgroups: grid1d(total, ELEMENTWISE_WG, ctx.caps),
        bindings,
      };
  return {
    shape: [...x],
    dispatches: [dispatch],
    weights,
    scratch: [],
    absorbsResidual: false,
    flops: 4 * total,
  };
}

export function lowerBatchNorm(op: BatchNormOp, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const ax = op.axis < 0 ? x.length + op.axis : op.axis;
  if (x[ax] !== op.channels) throw new Error(`axis ${op.axis} has ${x[ax]} channels, the weights have ${op.channels}`);
  const c = op.channels;
  return batchNormLowering(x, op.axis, op.epsilon, op.activation, ctx, [
    { name: 'gamma', length: c, dtype: 'f32', make: (w) => batchNormAffine(asParams(w)).gamma },
    { name: 'beta', length: c, dtype: 'f32', make: (w) => batchNormAffine(asParams(w)).beta },
    { name: 'mean', length: c, dtype: 'f32', direct: 'mean' },
    { name: 'variance', length: c, dtype: 'f32', direct: 'variance' },
  ]);
}

const asParams = (w: NodeWeights) => ({ gamma: w.gamma, beta: w.beta, mean: w.mean, variance: w.variance });

/** Rescaling: y = x·scale + offset, per channel (last axis) or scalar. Weights: scale, offset (length 1 or C). */
export interface ScaleOp {
  scaleLength: number;
  offsetLength: number;
}

export function lowerScale(op: ScaleOp, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const c = x[x.length - 1];
  for (const [what, n] of [
    ['scale', op.scaleLength],
    ['offset', op.offsetLength],
  ] as const) {
    if (n > 1 && n !== c) throw new Error(`${what} has ${n} values for ${c} channels`);
  }
  const widen = (v: Float32Array) => (v.length === c ? v : new Float32Array(c).fill(v[0]));
  // The batch-norm kernel with mean 0, variance 1 and ε 0 is exactly x·scale + offset.
  return batchNormLowering(x, -1, 0, undefined, ctx, [
    { name: 'gamma', length: c, dtype: 'f32', make: (w) => widen(w.scale) },
    { name: 'beta', length: c, dtype: 'f32', make: (w) => widen(w.offset) },
    { name: 'mean', length: c, dtype: 'f32', make: () => new Float32Array(c) },
    { name: 'variance', length: c, dtype: 'f32', make: () => new Float32Array(c).fill(1) },
  ]);
}

/**
 * Folds inference batch norm into the preceding conv: w'[…, o] = w[…, o]·s[o], b'[o] = (b[o] − mean[o])·s[o] + β[o]
 * with s = γ / sqrt(var + ε) (Keras's form, and AlexeyAB Darknet's with ε = 1e-5). Weights are HWIO (output
 * channel fastest), so the loop runs over o last. Computed in float64 and rounded once.
 */
export function foldBatchNorm(
  weights: Float32Array,
  bias: Float32Array | undefined,
  bn: BatchNormParams,
): { weights: Float32Array; bias: Float32Array } {
  const { gamma, beta } = batchNormAffine(bn);
  const oc = bn.mean.length;
  if (weights.length % oc)
    throw new Error(`foldBatchNorm: ${weights.length} weights do not split into ${oc} output channels`);
  if (bias && bias.length !== oc) throw new Error(`foldBatchNorm: bias has ${bias.length} values, expected ${oc}`);
  const scale = Array.from({ length: oc }, (_, o) => gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon));
  const w = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) w[i] = weights[i] * scale[i % oc];
  const b = new Float32Array(oc);
  for (let o = 0; o < oc; o++) b[o] = ((bias ? bias[o] : 0) - bn.mean[o]) * scale[o] + beta[o];
  return { weights: w, bias: b };
}
