// Elementwise binary ops (residual add, multiply, PReLU) and softmax over the last axis.
import { input, output, type Binding, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { ENUMS } from '../gpu/shaders.js';
import { activationParams, type Activation } from './activation.js';
import { ELEMENTWISE_WG, grid1d, sizeOf, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering } from './lowering.js';

export type BinaryOp = 'add' | 'mul' | 'prelu';
/** Codes from shaders/binary.wgsl's @enum constants. */
const BINARY_CODES: Record<BinaryOp, number> = { add: ENUMS.binary.ADD, mul: ENUMS.binary.MUL, prelu: ENUMS.binary.PRELU };

/**
 * y = act(a ∘ b): b must be a's shape or a suffix of it (per-channel in NHWC, or a scalar), repeated over
 * the leading axes. `b` says what b is bound to (input 1 of an add, a weight for PReLU's slopes).
 */
export function binaryDispatch(op: BinaryOp, a: Shape, b: Shape, activation: Activation | undefined, caps: DeviceCaps, bBinding: Binding = input(1)): Dispatch {
  const suffix = a.slice(a.length - b.length);
  const bSize = sizeOf(b);
  if (b.length > a.length || (bSize !== 1 && suffix.some((d, i) => d !== b[i]))) {
    throw new Error(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not match`);
  }
  const total = sizeOf(a);
  return {
    kernel: 'binary',
    spec: { WG: ELEMENTWISE_WG },
    params: { total, b_size: bSize, op: BINARY_CODES[op], ...activationParams(activation) },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: [input(0), bBinding, output],
  };
}

/** A residual add of two same-shaped inputs, with an activation after it. */
export function lowerAdd(op: { activation?: Activation }, ctx: LowerContext): Lowering {
  const [a, b] = ctx.inputs;
  if (ctx.inputs.length !== 2) throw new Error(`add takes 2 inputs here, got ${ctx.inputs.length}`);
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) throw new Error(`cannot add shapes [${a.join(', ')}] and [${b.join(', ')}]`);
  return elementwiseLowering([...a], binaryDispatch('add', a, b, op.activation, ctx.caps));
}

/** Softmax over the last axis. */
export function softmaxDispatch(x: Shape, caps: DeviceCaps): Dispatch {
  const cols = x[x.length - 1];
  const rows = sizeOf(x) / cols;
  return {
    kernel: 'softmax',
    spec: { WG: ELEMENTWISE_WG },
    params: { rows, cols },
    workgroups: grid1d(rows, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

export const lowerSoftmax = (_op: object, ctx: LowerContext): Lowering => elementwiseLowering([...ctx.inputs[0]], softmaxDispatch(ctx.inputs[0], ctx.caps));
