// Inference batch normalisation, standalone or folded into the preceding convolution.
import { activationParams, type Activation } from './activation.js';
import { ELEMENTWISE_WG, grid1d, sizeOf, type DeviceCaps, type KernelCall, type Shape } from './kernel-call.js';

export interface BatchNormParams {
  /** Omitted when the layer has scale=False (γ = 1). */
  gamma?: Float32Array;
  /** Omitted when the layer has center=False (β = 0). */
  beta?: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** Bindings: x, gamma, beta, mean, variance → y. `axis` may be negative (Keras style). */
export function planBatchNorm(
  x: Shape, axis: number, epsilon: number, activation: Activation | undefined, caps: DeviceCaps,
): KernelCall {
  const ax = axis < 0 ? x.length + axis : axis;
  if (ax < 0 || ax >= x.length) throw new Error(`batchnorm: axis ${axis} out of range for shape [${x.join(', ')}]`);
  const total = sizeOf(x);
  return {
    kernel: 'batchnorm',
    spec: { WG: ELEMENTWISE_WG },
    params: { total, channels: x[ax], inner: sizeOf(x.slice(ax + 1)), epsilon, ...activationParams(activation) },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: ['x', 'gamma', 'beta', 'mean', 'variance', 'y'],
  };
}

/** γ and β with Keras's center/scale defaults filled in. */
export function batchNormAffine(bn: BatchNormParams): { gamma: Float32Array; beta: Float32Array } {
  const c = bn.mean.length;
  for (const [name, v] of [['gamma', bn.gamma], ['beta', bn.beta], ['variance', bn.variance]] as const) {
    if (v && v.length !== c) throw new Error(`batchnorm: ${name} has ${v.length} values, mean has ${c}`);
  }
  return { gamma: bn.gamma ?? new Float32Array(c).fill(1), beta: bn.beta ?? new Float32Array(c) };
}

/**
 * Folds inference batch norm into the preceding conv: w'[…, o] = w[…, o]·s[o], b'[o] = (b[o] − mean[o])·s[o] + β[o]
 * with s = γ / sqrt(var + ε). Weights are HWIO (output channel fastest), so the loop runs over o last.
 * Computed in float64 and rounded once.
 */
export function foldBatchNorm(
  weights: Float32Array, bias: Float32Array | undefined, bn: BatchNormParams,
): { weights: Float32Array; bias: Float32Array } {
  const { gamma, beta } = batchNormAffine(bn);
  const oc = bn.mean.length;
  if (weights.length % oc) throw new Error(`foldBatchNorm: ${weights.length} weights do not split into ${oc} output channels`);
  if (bias && bias.length !== oc) throw new Error(`foldBatchNorm: bias has ${bias.length} values, expected ${oc}`);
  const scale = Array.from({ length: oc }, (_, o) => gamma[o] / Math.sqrt(bn.variance[o] + bn.epsilon));
  const w = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) w[i] = weights[i] * scale[i % oc];
  const b = new Float32Array(oc);
  for (let o = 0; o < oc; o++) b[o] = ((bias ? bias[o] : 0) - bn.mean[o]) * scale[o] + beta[o];
  return { weights: w, bias: b };
}
