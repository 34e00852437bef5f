// Keras's LayerNormalization over any set of axes (shaders/layer-norm.wgsl), and log-softmax over the
// last axis (shaders/log-softmax.wgsl): the row-wise reductions that are not a GEMM.
import { input, output, weight, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { ELEMENTWISE_WG, grid1d, sizeOf, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering, type WeightUse } from './lowering.js';

/**
 * A layer-norm node: normalised over `axes` (negative counts from the end; never the batch axis).
 * Weights: gamma and beta, each optional (scale=False, center=False), shaped as the input's sizes at
 * the sorted axes.
 */
export interface LayerNormOp {
  axes: number[];
  epsilon: number;
}

/** The sorted, non-negative normalised axes of a rank-`rank` input (errors on the batch axis or repeats). */
export function layerNormAxes(axes: readonly number[], rank: number): number[] {
  const out = [...new Set(axes.map((a) => (a < 0 ? rank + a : a)))].sort((a, b) => a - b);
  if (out.length !== axes.length || !out.length || out.some((a) => a < 1 || a >= rank)) {
    throw new Error(
      `layer-norm: axes [${axes.join(', ')}] must be distinct axes of rank ${rank} other than the batch axis`,
    );
  }
  return out;
}

/** Runs of consecutive axes of one kind (kept or normalised) as (size, element stride), innermost run last. */
function runs(x: Shape, normalised: ReadonlySet<number>, want: boolean): { size: number; stride: number }[] {
  const out: { size: number; stride: number }[] = [];
  let stride = sizeOf(x);
  let previous: boolean | undefined;
  x.forEach((d, axis) => {
    stride /= d;
    const kind = normalised.has(axis);
    if (kind === want) {
      if (previous === want) {
        const last = out[out.length - 1];
        last.size *= d;
        last.stride = stride;
      } else out.push({ size: d, stride });
    }
    previous = kind;
  });
  return out;
}

/** Three runs (size, stride), padded in front with size-1 runs; errors when the axes form more. */
function threeRuns(r: { size: number; stride: number }[], what: string): { size: number; stride: number }[] {
  if (r.length > 3)
    throw new Error(`layer-norm: the ${what} axes form ${r.length} separate runs; at most 3 are supported`);
  return [...Array.from({ length: 3 - r.length }, () => ({ size: 1, stride: 0 })), ...r];
}

export function layerNormDispatch(x: Shape, axes: readonly number[], epsilon: number, caps: DeviceCaps): Dispatch {
  const normalised = new Set(layerNormAxes(axes, x.length));
  const k = threeRuns(runs(x, normalised, false), 'kept');
  const r = threeRuns(runs(x, normalised, true), 'normalised');
  const positions = k[0].size * k[1].size * k[2].size;
  return {
    kernel: 'layer-norm',
    spec: { WG: ELEMENTWISE_WG },
    params: {
      positions,
      k1: k[1].size,
      k2: k[2].size,
      ks0: k[0].stride,
      ks1: k[1].stride,
      ks2: k[2].stride,
      count: r[0].size * r[1].size * r[2].size,
      r1: r[1].size,
      r2: r[2].size,
      rs0: r[0].stride,
      rs1: r[1].stride,
      rs2: r[2].stride,
      epsilon,
    },
    workgroups: grid1d(positions, ELEMENTWISE_WG, caps),
    bindings: [input(0), weight('gamma'), weight('beta'), output],
  };
}

export function lowerLayerNorm(op: LayerNormOp, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const count = layerNormAxes(op.axes, x.length).reduce((n, a) => n * x[a], 1);
  const affine = (name: 'gamma' | 'beta', fill: number): WeightUse => ({
    name,
    length: count,
    dtype: 'f32',
    make: (w) => {
      const v = w[name];
      if (v && v.length !== count) throw new Error(`${name} has ${v.length} values for ${count} normalised ones`);
      return v ?? new Float32Array(count).fill(fill);
    },
  });
  return {
    shape: [...x],
    dispatches: [layerNormDispatch(x, op.axes, op.epsilon, ctx.caps)],
    weights: [affine('gamma', 1), affine('beta', 0)],
    scratch: [],
    absorbsResidual: false,
    flops: 8 * sizeOf(x),
  };
}

export function logSoftmaxDispatch(x: Shape, caps: DeviceCaps): Dispatch {
  const cols = x[x.length - 1];
  const rows = sizeOf(x) / cols;
  return {
    kernel: 'log-softmax',
    spec: { WG: ELEMENTWISE_WG },
    params: { rows, cols },
    workgroups: grid1d(rows, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

export const lowerLogSoftmax = (_op: object, ctx: LowerContext): Lowering =>
  elementwiseLowering([...ctx.inputs[0]], logSoftmaxDispatch(ctx.inputs[0], ctx.caps));
