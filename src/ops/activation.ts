// Activations as the kernels encode them: a code plus two scalars (see shaders/common/activation.wgsl).
import { ENUMS } from '../gpu/shaders.js';
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { ELEMENTWISE_WG, grid1d, sizeOf, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering } from './lowering.js';

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
  | { kind: 'thresholded_relu'; theta: number }
  /** `approximate`: the tanh form (keras.ops.gelu's default, Darknet's gelu); else the exact erf form. */
  | { kind: 'gelu'; approximate?: boolean }
  | { kind: 'hard_swish' }
  | { kind: 'hard_mish' }
  | { kind: 'celu'; alpha?: number }
  | { kind: 'exponential' }
  | { kind: 'log_sigmoid' }
  | { kind: 'hard_tanh' };

const LINEAR: Activation = { kind: 'linear' };

const FLT_MAX = 3.4028234663852886e38;

export interface ActivationParams {
  act: number;
  act_a: number;
  act_b: number;
}

const CODE = ENUMS.activation;

/** The (code, a, b) triple the kernels' `activate()` takes (codes from shaders/common/activation.wgsl). */
export function activationParams(a: Activation = LINEAR): ActivationParams {
  switch (a.kind) {
    case 'linear':
      return { act: CODE.LINEAR, act_a: 0, act_b: 0 };
    case 'relu':
      return { act: CODE.RELU, act_a: a.negativeSlope ?? 0, act_b: a.maxValue ?? FLT_MAX };
    case 'relu6':
      return { act: CODE.RELU, act_a: 0, act_b: 6 };
    case 'leaky':
      return { act: CODE.RELU, act_a: a.alpha, act_b: FLT_MAX };
    case 'sigmoid':
      return { act: CODE.SIGMOID, act_a: 0, act_b: 0 };
    case 'tanh':
      return { act: CODE.TANH, act_a: 0, act_b: 0 };
    case 'elu':
      return { act: CODE.ELU, act_a: a.alpha ?? 1, act_b: 0 };
    case 'selu':
      return { act: CODE.SELU, act_a: 0, act_b: 0 };
    case 'softplus':
      return { act: CODE.SOFTPLUS, act_a: 0, act_b: 0 };
    case 'softsign':
      return { act: CODE.SOFTSIGN, act_a: 0, act_b: 0 };
    case 'hard_sigmoid':
      return { act: CODE.HARD_SIGMOID, act_a: a.slope ?? 0.2, act_b: a.offset ?? 0.5 };
    case 'mish':
      return { act: CODE.MISH, act_a: 0, act_b: 0 };
    case 'swish':
      return { act: CODE.SWISH, act_a: 0, act_b: 0 };
    case 'thresholded_relu':
      return { act: CODE.THRESHOLDED_RELU, act_a: a.theta, act_b: 0 };
    case 'gelu':
      return { act: a.approximate ? CODE.GELU_TANH : CODE.GELU, act_a: 0, act_b: 0 };
    case 'hard_swish':
      return { act: CODE.HARD_SWISH, act_a: 0, act_b: 0 };
    case 'hard_mish':
      return { act: CODE.HARD_MISH, act_a: 0, act_b: 0 };
    case 'celu':
      return { act: CODE.CELU, act_a: a.alpha ?? 1, act_b: 0 };
    case 'exponential':
      return { act: CODE.EXPONENTIAL, act_a: 0, act_b: 0 };
    case 'log_sigmoid':
      return { act: CODE.LOG_SIGMOID, act_a: 0, act_b: 0 };
    case 'hard_tanh':
      return { act: CODE.HARD_TANH, act_a: 0, act_b: 0 };
  }
}

/** Standalone y = act(x) over any shape: input 0 → output; by quads when the size allows. */
export function activationDispatch(shape: Shape, act: Activation, caps: DeviceCaps): Dispatch {
  const total = sizeOf(shape);
  if (total % 4 === 0) {
    return {
      kernel: 'activation-vec4',
      spec: { WG: ELEMENTWISE_WG },
      params: { quads: total / 4, ...activationParams(act) },
      workgroups: grid1d(total / 4, ELEMENTWISE_WG, caps),
      bindings: [input(0), output],
    };
  }
  return {
    kernel: 'activation',
    spec: { WG: ELEMENTWISE_WG },
    params: { total, ...activationParams(act) },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

export function lowerActivation(op: { activation: Activation }, ctx: LowerContext): Lowering {
  return elementwiseLowering([...ctx.inputs[0]], activationDispatch(ctx.inputs[0], op.activation, ctx.caps));
}
