// Elementwise binary ops (residual add, multiply, PReLU) and softmax over the last axis.
import { activationParams, type Activation } from './activation.js';
import { ELEMENTWISE_WG, grid1d, sizeOf, type DeviceCaps, type KernelCall, type Shape } from './kernel-call.js';

export type BinaryOp = 'add' | 'mul' | 'prelu';
const BINARY_CODES: Record<BinaryOp, number> = { add: 0, mul: 1, prelu: 2 };

/**
 * Bindings: a, b → y. b must be a's shape or a suffix of it (per-channel in NHWC, or a scalar),
 * repeated over the leading axes.
 */
export function planBinary(op: BinaryOp, a: Shape, b: Shape, activation: Activation | undefined, caps: DeviceCaps): KernelCall {
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
    bindings: ['a', 'b', 'y'],
  };
}

/** Softmax over the last axis. Bindings: x → y. */
export function planSoftmax(x: Shape, caps: DeviceCaps): KernelCall {
  const cols = x[x.length - 1];
  const rows = sizeOf(x) / cols;
  return {
    kernel: 'softmax',
    spec: { WG: ELEMENTWISE_WG },
    params: { rows, cols },
    workgroups: grid1d(rows, ELEMENTWISE_WG, caps),
    bindings: ['x', 'y'],
  };
}
