// Ops that move data without arithmetic: concat, nearest upsample, padding, transposes, flatten.
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { assertRank, ELEMENTWISE_WG, grid1d, sizeOf, type Shape } from './grid.js';
import { aliasLowering, elementwiseLowering, type LowerContext, type Lowering } from './lowering.js';

function normAxis(op: string, axis: number, rank: number): number {
  const ax = axis < 0 ? rank + axis : axis;
  if (ax < 0 || ax >= rank) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return ax;
}

export function concatOutputShape(inputs: readonly Shape[], axis: number): number[] {
  if (!inputs.length) throw new Error('concat: no inputs');
  const rank = inputs[0].length;
  const ax = normAxis('concat', axis, rank);
  inputs.forEach((s, i) => {
    if (s.length !== rank || s.some((d, j) => j !== ax && d !== inputs[0][j])) {
      throw new Error(
        `concat: input ${i} has shape [${s.join(', ')}], ` +
          `which does not match [${inputs[0].join(', ')}] outside axis ${axis}`,
      );
    }
  });
  const out = [...inputs[0]];
  out[ax] = inputs.reduce((sum, s) => sum + s[ax], 0);
  return out;
}

/** Whether a copy's run lengths and offsets (in values) all fall on quads, so it can move vec4s. */
const onQuads = (...values: number[]) => values.every((v) => v % 4 === 0);

/** One dispatch per input; dispatch i copies input i into its place in the output. */
export function planConcat(inputs: readonly Shape[], axis: number, caps: DeviceCaps): Dispatch[] {
  const out = concatOutputShape(inputs, axis);
  const ax = normAxis('concat', axis, out.length);
  const inner = sizeOf(out.slice(ax + 1));
  let offset = 0;
  return inputs.map((s, i) => {
    const total = sizeOf(s);
    const [run, outRun, start] = [s[ax] * inner, out[ax] * inner, offset * inner];
    if (onQuads(run, outRun, start)) {
      // Every run starts and ends on a quad: copied by quads (concat-vec4), about 3× faster.
      offset += s[ax];
      return {
        kernel: 'concat-vec4',
        spec: { WG: ELEMENTWISE_WG },
        params: { quads: total / 4, run: run / 4, out_run: outRun / 4, offset: start / 4 },
        workgroups: grid1d(total / 4, ELEMENTWISE_WG, caps),
        bindings: [input(i), output],
      };
    }
    const call: Dispatch = {
      kernel: 'concat',
      spec: { WG: ELEMENTWISE_WG },
      params: { total, in_axis: s[ax], out_axis: out[ax], inner, offset },
      workgroups: grid1d(total, ELEMENTWISE_WG, caps),
      bindings: [input(i), output],
    };
    offset += s[ax];
    return call;
  });
}

/** y = x[…, begin:begin+size, …] along `axis`. */
export function planSlice(x: Shape, axis: number, begin: number, size: number, caps: DeviceCaps): Dispatch {
  const ax = normAxis('slice', axis, x.length);
  if (!(Number.isInteger(begin) && Number.isInteger(size) && begin >= 0 && size >= 1 && begin + size <= x[ax])) {
    throw new Error(`slice: [${begin}, ${begin + size}) is outside axis ${axis} of size ${x[ax]}`);
  }
  const inner = sizeOf(x.slice(ax + 1));
  const total = (sizeOf(x) / x[ax]) * size;
  const [inRun, run, start] = [x[ax] * inner, size * inner, begin * inner];
  if (onQuads(inRun, run, start)) {
    // Every run starts and ends on a quad: copied by quads (slice-vec4), as concat-vec4.
    return {
      kernel: 'slice-vec4',
      spec: { WG: ELEMENTWISE_WG },
      params: { quads: total / 4, in_run: inRun / 4, run: run / 4, offset: start / 4 },
      workgroups: grid1d(total / 4, ELEMENTWISE_WG, caps),
      bindings: [input(0), output],
    };
  }
  return {
    kernel: 'slice',
    spec: { WG: ELEMENTWISE_WG },
    params: { total, in_axis: x[ax], out_axis: size, inner, offset: begin },
    workgroups: grid1d(total, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

export function sliceOutputShape(x: Shape, axis: number, size: number): number[] {
  const out = [...x];
  out[normAxis('slice', axis, x.length)] = size;
  return out;
}

/** Nearest-neighbour upsampling of NHWC. */
export function planUpsample(x: Shape, factors: readonly [number, number], caps: DeviceCaps): Dispatch {
  assertRank('upsample', 'input', x, 4);
  const [n, h, w, c] = x;
  const [fh, fw] = factors;
  if (!(Number.isInteger(fh) && Number.isInteger(fw) && fh >= 1 && fw >= 1))
    throw new Error(`upsample: factors ${fh}×${fw} must be positive integers`);
  return {
    kernel: 'upsample',
    spec: { WG: ELEMENTWISE_WG },
    params: { n, h, w, c, fh, fw },
    workgroups: grid1d(n * h * fh * w * fw * c, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}
export const upsampleOutputShape = (x: Shape, [fh, fw]: readonly [number, number]) => [
  x[0],
  x[1] * fh,
  x[2] * fw,
  x[3],
];

/** Constant padding of NHWC's spatial axes, pads = [top, bottom, left, right]. */
export function planPad(
  x: Shape,
  pads: readonly [number, number, number, number],
  caps: DeviceCaps,
  value = 0,
): Dispatch {
  assertRank('pad', 'input', x, 4);
  const [n, h, w, c] = x;
  const [t, b, l, r] = pads;
  if (pads.some((p) => !Number.isInteger(p) || p < 0))
    throw new Error(`pad: pads [${pads.join(', ')}] must be non-negative integers`);
  const oh = h + t + b,
    ow = w + l + r;
  return {
    kernel: 'pad',
    spec: { WG: ELEMENTWISE_WG },
    params: { n, h, w, c, oh, ow, pad_top: t, pad_left: l, value },
    workgroups: grid1d(n * oh * ow * c, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}
export const padOutputShape = (x: Shape, [t, b, l, r]: readonly number[]) => [x[0], x[1] + t + b, x[2] + l + r, x[3]];

/** y = x permuted: y's axis i is x's axis perm[i]. Rank <= 4. */
export function planTranspose(x: Shape, perm: readonly number[], caps: DeviceCaps): Dispatch {
  if (x.length > 4 || perm.length !== x.length || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`transpose: perm [${perm.join(', ')}] is not a permutation of rank ${x.length} (<= 4)`);
  }
  const strides = x.map((_, i) => sizeOf(x.slice(i + 1)));
  const pad = 4 - x.length;
  const d = [...Array(pad).fill(1), ...perm.map((p) => x[p])];
  const s = [...Array(pad).fill(0), ...perm.map((p) => strides[p])];
  return {
    kernel: 'transpose',
    spec: { WG: ELEMENTWISE_WG },
    params: { d0: d[0], d1: d[1], d2: d[2], d3: d[3], s0: s[0], s1: s[1], s2: s[2], s3: s[3] },
    workgroups: grid1d(sizeOf(x), ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}
export const transposeOutputShape = (x: Shape, perm: readonly number[]) => perm.map((p) => x[p]);

export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;

/** Keras's Flatten on NHWC is a reshape: channels-last order is already the memory order. */
export function flattenShape(x: Shape): [number, number] {
  return [x[0], sizeOf(x.slice(1))];
}

/** Resolves a Reshape target (without batch, one -1 allowed) against the input shape. */
function reshapeTarget(input: Shape, target: readonly number[]): number[] {
  const total = sizeOf(input.slice(1));
  const known = target.filter((d) => d !== -1);
  const free = target.length - known.length;
  const knownSize = sizeOf(known);
  if (free > 1 || (free === 1 && total % knownSize) || (free === 0 && knownSize !== total)) {
    throw new Error(`cannot reshape [${input.slice(1).join(', ')}] (${total} values) to [${target.join(', ')}]`);
  }
  return [input[0], ...target.map((d) => (d === -1 ? total / knownSize : d))];
}

export const lowerReshape = (op: { shape: number[] }, ctx: LowerContext): Lowering =>
  aliasLowering(reshapeTarget(ctx.inputs[0], op.shape));
export const lowerIdentity = (_op: object, ctx: LowerContext): Lowering => aliasLowering([...ctx.inputs[0]]);

export function lowerConcat(op: { axis: number }, ctx: LowerContext): Lowering {
  return elementwiseLowering(concatOutputShape(ctx.inputs, op.axis), ...planConcat(ctx.inputs, op.axis, ctx.caps));
}

export function lowerSlice(op: { axis: number; begin: number; size: number }, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  return elementwiseLowering(sliceOutputShape(x, op.axis, op.size), planSlice(x, op.axis, op.begin, op.size, ctx.caps));
}

export function lowerUpsample(op: { factors: [number, number] }, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  return elementwiseLowering(upsampleOutputShape(x, op.factors), planUpsample(x, op.factors, ctx.caps));
}

export function lowerPad(op: { pads: [number, number, number, number] }, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  return elementwiseLowering(padOutputShape(x, op.pads), planPad(x, op.pads, ctx.caps));
}

export function lowerTranspose(op: { perm: number[] }, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  return elementwiseLowering(transposeOutputShape(x, op.perm), planTranspose(x, op.perm, ctx.caps));
}
