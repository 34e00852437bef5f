// The optimisers, with Keras 3's defaults and formulas (keras/src/optimizers/{sgd,adam,rmsprop}.py):
// what each one's kernel is given per step, and how many state buffers it keeps.
import type { Dispatch } from '../gpu/dispatch.js';
import { input } from '../gpu/dispatch.js';
import { UsageError } from '../errors.js';
import { grid1d } from '../ops/grid.js';
import type { DeviceCaps } from '../gpu/dispatch.js';

export type OptimizerKind = 'sgd' | 'adam' | 'rmsprop';

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** Keras's defaults: 0.01 for SGD, 0.001 for Adam and RMSprop. */
  learningRate?: number;
  /** SGD: momentum (Keras's default 0) and Nesterov. */
  momentum?: number;
  nesterov?: boolean;
  /** Adam: β₁ 0.9, β₂ 0.999. */
  beta1?: number;
  beta2?: number;
  /** RMSprop: ρ 0.9. */
  rho?: number;
  /** Adam and RMSprop: 1e-7. */
  epsilon?: number;
}

export const DEFAULT_LEARNING_RATE: Readonly<Record<OptimizerKind, number>> = {
  sgd: 0.01,
  adam: 0.001,
  rmsprop: 0.001,
};

/** Every field filled with Keras's defaults (and checked). */
export function resolveOptimizer(c: OptimizerConfig): Required<OptimizerConfig> {
  const r: Required<OptimizerConfig> = {
    kind: c.kind,
    learningRate: c.learningRate ?? DEFAULT_LEARNING_RATE[c.kind],
    momentum: c.momentum ?? 0,
    nesterov: c.nesterov ?? false,
    beta1: c.beta1 ?? 0.9,
    beta2: c.beta2 ?? 0.999,
    rho: c.rho ?? 0.9,
    epsilon: c.epsilon ?? 1e-7,
  };
  if (!(r.learningRate > 0)) throw new UsageError(`${r.learningRate} is not a positive learning rate`, '--lr');
  if (!(r.momentum >= 0 && r.momentum < 1)) throw new UsageError(`${r.momentum} is not in [0, 1)`, '--momentum');
  return r;
}

/**
 * State buffers per trainable value: Adam's two moments, RMSprop's mean square, SGD's momentum (kept
 * even at momentum 0, unread then, so no binding ever aliases the weights).
 */
export function stateBuffers(c: Required<OptimizerConfig>): number {
  return c.kind === 'adam' ? 2 : 1;
}

/**
 * The dispatch of update number `step` (from 1) over `total` values. Bindings: input 0 the gradients,
 * input 1 the weights, inputs 2… the state buffers (all updated in place but the gradients).
 */
export function optimizerDispatch(
  c: Required<OptimizerConfig>,
  total: number,
  step: number,
  caps: DeviceCaps,
): Dispatch {
  const workgroups = grid1d(total, 64, caps);
  const states = stateBuffers(c);
  const bindings = [input(0), input(1), ...Array.from({ length: states }, (_, i) => input(2 + i))];
  if (c.kind === 'adam') {
    // Keras: alpha = lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ), in float64 here rather than per element in f32.
    const alpha = (c.learningRate * Math.sqrt(1 - c.beta2 ** step)) / (1 - c.beta1 ** step);
    return {
      kernel: 'optimizer-adam',
      spec: {},
      workgroups,
      bindings,
      params: { total, alpha, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon },
    };
  }
  if (c.kind === 'rmsprop') {
    return {
      kernel: 'optimizer-rmsprop',
      spec: {},
      workgroups,
      bindings,
      params: { total, lr: c.learningRate, rho: c.rho, epsilon: c.epsilon },
    };
  }
  return {
    kernel: 'optimizer-sgd',
    spec: { NESTEROV: c.nesterov ? 1 : 0 },
    workgroups,
    bindings,
    params: { total, lr: c.learningRate, momentum: c.momentum },
  };
}
