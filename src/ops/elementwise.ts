// Elementwise binary ops with broadcasting (residual add, multiply, subtract, max, min, divide, PReLU) and
// softmax over the last axis.
import { input, output, weight, type Binding, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { ENUMS } from '../gpu/shaders.js';
import { activationParams, type Activation } from './activation.js';
import { ELEMENTWISE_WG, grid1d, sizeOf, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering, type WeightUse } from './lowering.js';

export type BinaryOp = 'add' | 'mul' | 'prelu' | 'sub' | 'max' | 'min' | 'div';
/** Codes from shaders/binary.wgsl's @enum constants. */
const BINARY_CODES: Record<BinaryOp, number> = {
  add: ENUMS.binary.ADD,
  mul: ENUMS.binary.MUL,
  prelu: ENUMS.binary.PRELU,
  sub: ENUMS.binary.SUB,
  max: ENUMS.binary.MAX,
  min: ENUMS.binary.MIN,
  div: ENUMS.binary.DIV,
};

/** NumPy broadcasting: shapes aligned on the right, size-1 dims stretch; errors when sizes clash. */
export function broadcastShape(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1,
      db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element strides of `shape` laid out in `out`'s dims (right-aligned), 0 where it broadcasts. */
function broadcastStrides(shape: Shape, out: number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let step = 1;
  for (let i = shape.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    strides[j] = shape[i] === 1 ? 0 : step;
    step *= shape[i];
  }
  return strides;
}

/**
 * The output dims and both operands' strides, with size-1 dims dropped and neighbours merged where both
 * operands step through them contiguously (a same-shaped op becomes one dim): at most 6 for the kernel.
 */
function mergedLayout(out: number[], sa: number[], sb: number[]): { dims: number[]; sa: number[]; sb: number[] } {
  const dims: number[] = [],
    ma: number[] = [],
    mb: number[] = [];
  out.forEach((d, i) => {
    if (d === 1) return;
    const k = dims.length - 1;
    if (k >= 0 && ma[k] === sa[i] * d && mb[k] === sb[i] * d) {
      dims[k] *= d;
      ma[k] = sa[i];
      mb[k] = sb[i];
      return;
    }
    dims.push(d);
    ma.push(sa[i]);
    mb.push(sb[i]);
  });
  if (dims.length > 6)
    throw new Error(`broadcasting over [${out.join(', ')}] needs ${dims.length} dims; the kernel takes 6`);
  while (dims.length < 6) {
    dims.unshift(1);
    ma.unshift(0);
    mb.unshift(0);
  }
  return { dims, sa: ma, sb: mb };
}

/**
 * y = act(a ∘ b) with NumPy broadcasting of a and b (each may stretch). `aBinding`/`bBinding` say what
 * each operand is bound to (the node's inputs by default; a weight for PReLU's slopes or a constant).
 */
export function binaryDispatch(
  op: BinaryOp,
  a: Shape,
  b: Shape,
  activation: Activation | undefined,
  caps: DeviceCaps,
  bBinding: Binding = input(1),
  aBinding: Binding = input(0),
): Dispatch {
  const out = broadcastShape(a, b);
  const total = sizeOf(out);
  const m = mergedLayout(out, broadcastStrides(a, out), broadcastStrides(b, out));
  return {
    kernel: 'binary',
    spec: { WG: ELEMENTWISE_WG },
    params: {
      total,
      d1: m.dims[1],
      d2: m.dims[2],
      d3: m.dims[3],
      d4: m.dims[4],
      d5: m.dims[5],
      ...Object.fromEntries(m.sa.map((v, i) => [`sa${i}`, v])),
      ...Object.fromEntries(m.sb.map((v, i) => [`sb${i}`, v])),
      op: BINARY_CODES[op],
      ...activationParams(activation),
    },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: [aBinding, bBinding, output],
  };
}

/**
 * An elementwise op with broadcasting. Two inputs; or one input and a scalar `constant` (a Keras
 * operation node such as `x + 3.0` or `3.0 - x`, which puts the constant `first`); or one input and a
 * weight 'operand' of `operandShape` (PReLU's slopes, a Darknet shortcut's per-channel weights).
 */
export interface BinaryOpAttrs {
  op: BinaryOp;
  activation?: Activation;
  constant?: { value: number; first?: boolean };
  operandShape?: number[];
  /**
   * Keras's merge layers: an input of lower rank first gets size-1 axes right after the batch axis
   * ((N, C) against (N, H, W, C) is (N, 1, 1, C)), then NumPy broadcasting applies.
   */
  batchAligned?: boolean;
}

/** `s` with size-1 axes inserted after the batch axis up to `rank`. */
const afterBatch = (s: Shape, rank: number): Shape =>
  s.length >= rank ? s : [s[0], ...Array(rank - s.length).fill(1), ...s.slice(1)];

export function lowerBinary(attrs: BinaryOpAttrs, ctx: LowerContext): Lowering {
  const [x] = ctx.inputs;
  const { op, activation, constant, operandShape } = attrs;
  let a: Shape = x,
    b: Shape,
    aBinding = input(0),
    bBinding = input(1);
  const weights: WeightUse[] = [];
  if (constant) {
    weights.push({ name: 'constant', length: 1, dtype: 'f32', make: () => Float32Array.of(constant.value) });
    b = [1];
    bBinding = weight('constant');
    if (constant.first) [a, b, aBinding, bBinding] = [b, a, bBinding, aBinding];
  } else if (operandShape) {
    weights.push({ name: 'operand', length: sizeOf(operandShape), dtype: 'f32', direct: 'operand' });
    b = operandShape;
    bBinding = weight('operand');
  } else {
    if (ctx.inputs.length !== 2) throw new Error(`${op} takes 2 inputs, got ${ctx.inputs.length}`);
    b = ctx.inputs[1];
    if (attrs.batchAligned) [a, b] = [afterBatch(a, b.length), afterBatch(b, a.length)];
  }
  const dispatch = binaryDispatch(op, a, b, activation, ctx.caps, bBinding, aBinding);
  const shape = broadcastShape(a, b);
  return { shape, dispatches: [dispatch], weights, scratch: [], absorbsResidual: false, flops: sizeOf(shape) };
}

/** A residual add of two same-shaped inputs, with an activation after it. */
export function lowerAdd(op: { activation?: Activation }, ctx: LowerContext): Lowering {
  const [a, b] = ctx.inputs;
  if (ctx.inputs.length !== 2) throw new Error(`add takes 2 inputs here, got ${ctx.inputs.length}`);
  if (a.length !== b.length || a.some((d, i) => d !== b[i]))
    throw new Error(
      `cannot add shapes [${a.join(', ')}] and [${b.join(', ')}] (a broadcasting add is a 'binary' node)`,
    );
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

export const lowerSoftmax = (_op: object, ctx: LowerContext): Lowering =>
  elementwiseLowering([...ctx.inputs[0]], softmaxDispatch(ctx.inputs[0], ctx.caps));
