// Activations as the kernels encode them: a code plus two scalars (see shaders/common/activation.wgsl).
import { ELEMENTWISE_WG, grid1d, sizeOf, type DeviceCaps, type KernelCall, type Shape } from './kernel-call.js';

export type Activation =
  | { kind: 'linear' }
  | { kind: 'relu'; maxValue?: number; negativeSlope?: number }
  | { kind: 'relu6' }
  | { kind: 'leaky'; alpha: number }
  | { kind: 'sigmoid' }
  | { kind: 'tanh' }
  | { kind: 'elu'; alpha?: number }
  | { kind: 'selu' }
  | { kind: 'softplus' }
  | { kind: 'softsign' }
  | { kind: 'hard_sigmoid'; slope?: number; offset?: number }
  | { kind: 'mish' }
  | { kind: 'swish' }
  | { kind: 'thresholded_relu'; theta: number };

export type ActivationKind = Activation['kind'];

export const LINEAR: Activation = { kind: 'linear' };

const FLT_MAX = 3.4028234663852886e38;

export interface ActivationParams {
  act: number;
  act_a: number;
  act_b: number;
}

/** The (code, a, b) triple the kernels' `activate()` takes. */
export function activationParams(a: Activation = LINEAR): ActivationParams {
  switch (a.kind) {
    case 'linear': return { act: 0, act_a: 0, act_b: 0 };
    case 'relu': return { act: 1, act_a: a.negativeSlope ?? 0, act_b: a.maxValue ?? FLT_MAX };
    case 'relu6': return { act: 1, act_a: 0, act_b: 6 };
    case 'leaky': return { act: 1, act_a: a.alpha, act_b: FLT_MAX };
    case 'sigmoid': return { act: 2, act_a: 0, act_b: 0 };
    case 'tanh': return { act: 3, act_a: 0, act_b: 0 };
    case 'elu': return { act: 4, act_a: a.alpha ?? 1, act_b: 0 };
    case 'selu': return { act: 5, act_a: 0, act_b: 0 };
    case 'softplus': return { act: 6, act_a: 0, act_b: 0 };
    case 'softsign': return { act: 7, act_a: 0, act_b: 0 };
    case 'hard_sigmoid': return { act: 8, act_a: a.slope ?? 0.2, act_b: a.offset ?? 0.5 };
    case 'mish': return { act: 9, act_a: 0, act_b: 0 };
    case 'swish': return { act: 10, act_a: 0, act_b: 0 };
    case 'thresholded_relu': return { act: 11, act_a: a.theta, act_b: 0 };
  }
}

/** Standalone y = act(x) over any shape. Bindings: x → y. */
export function planActivation(shape: Shape, act: Activation, caps: DeviceCaps): KernelCall {
  const total = sizeOf(shape);
  return {
    kernel: 'activation',
    spec: { WG: ELEMENTWISE_WG },
    params: { total, ...activationParams(act) },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: ['x', 'y'],
  };
}
