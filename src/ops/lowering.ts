// The one answer an op family gives for a node: which dispatches compute it (with typed bindings), which
// weights it needs (made from the node's arrays, in which layout and storage dtype), how much scratch,
// which epilogue it can absorb, how it is tuned and what it costs. The planner, the executor, uploads,
// f16, the fusion passes, the tuner and the benchmarks all read a Lowering; none of them re-derives it.
import type { DeviceCaps, Dispatch, TileVariant } from '../gpu/dispatch.js';
import { KERNEL_INFO } from '../gpu/shaders.js';
import type { Shape } from './grid.js';
import type { Padding } from './padding.js';

/** A node's weight arrays by name, in the internal layout (HWIO kernels, [in, out] dense kernels). */
export type NodeWeights = Readonly<Record<string, Float32Array>>;

export interface WeightUse {
  /** The name the dispatches bind it by. */
  name: string;
  /** Values once made (all parts together, when split). */
  length: number;
  dtype: 'f32' | 'f16';
  /** The node array it comes from unchanged, when it does (an eager call binds its tensor there). */
  direct?: string;
  /** Makes the uploaded values from the node's arrays (absent when `direct`). */
  make?: (w: NodeWeights) => Float32Array;
  /** A weight larger than one storage binding is uploaded as parts, bound by `part`. */
  parts?: number;
  /** Makes part i (with `parts`). */
  makePart?: (w: NodeWeights, part: number) => Float32Array;
}

/** The problem a tuning class is measured on: a GEMM, or an implicit-GEMM convolution. */
export type TuningProblem =
  | { kind: 'gemm'; m: number; k: number; n: number; batched: boolean }
  | { kind: 'conv2d'; x: number[]; w: number[]; stride: number; padding: Padding };

export interface TuningCase {
  /** The class key the tuning table is indexed by (e.g. 'gemm mL nL4', 'conv2d k3x3 s2 ocL'). */
  key: string;
  problem: TuningProblem;
}

export interface Lowering {
  /** Output shape (batch first). */
  shape: number[];
  dispatches: Dispatch[];
  weights: WeightUse[];
  /** Bytes of each scratch buffer (alive only while the node runs). */
  scratch: number[];
  /** The output is the input's buffer under another shape (identity, reshape): no dispatch. */
  alias?: boolean;
  /** Whether this node can add a residual (bound as input 1) in its epilogue. */
  absorbsResidual: boolean;
  tuning?: TuningCase;
  /** Floating-point operations as a direct computation counts them (multiply-adds count 2). */
  flops: number;
}

export interface LowerOptions {
  /** Run 3×3 stride-1 convolutions as Winograd where it applies (default true). */
  winograd?: boolean;
  /**
   * Store conv and dense weights as f16 (needs shader-f16): half the weight memory and bandwidth; the
   * kernels read them into f32, so sums and activations stay f32.
   */
  f16Weights?: boolean;
  /** A tile variant to use instead of the tuned or default one (the tuner, benchmarks, tests). */
  variant?: TileVariant;
}

export interface LowerContext extends LowerOptions {
  caps: DeviceCaps;
  /** Shapes of the node's inputs, in order. */
  inputs: Shape[];
}

/** A lowering with no dispatch whose output is its input (identity, reshape). */
export function aliasLowering(shape: number[]): Lowering {
  return { shape, dispatches: [], weights: [], scratch: [], alias: true, absorbsResidual: false, flops: 0 };
}

/** One dispatch writing `shape` from the node's inputs, with no weights (elementwise and data-movement ops). */
export function elementwiseLowering(shape: number[], ...dispatches: Dispatch[]): Lowering {
  return { shape, dispatches, weights: [], scratch: [], absorbsResidual: false, flops: 0 };
}

/** A weight bound as the node holds it. */
export const directWeight = (name: string, length: number): WeightUse => ({ name, length, dtype: 'f32', direct: name });

/** A weight the node may not hold (a conv without bias): zeros of `length` then. */
export const biasWeight = (length: number, name = 'bias'): WeightUse => ({
  name,
  length,
  dtype: 'f32',
  make: (w) => w[name] ?? new Float32Array(length),
});

/**
 * Stores the named weights as f16 where every dispatch that reads them has an f16 variant and binds them
 * where that variant reads f16 (binding 1: a kernel's `// @f16` alias types its weight operand), with
 * spec F16 = 1 so the kernel reads them into f32. The one place f16 storage is decided.
 */
export function withF16Weights(low: Lowering, names: readonly string[]): Lowering {
  const bindsAt = (d: Dispatch, name: string) => d.bindings.findIndex((b) => b.kind === 'weight' && b.name === name);
  const halved = new Set(
    names.filter((n) => {
      const readers = low.dispatches.filter((d) => bindsAt(d, n) >= 0);
      return readers.length > 0 && readers.every((d) => KERNEL_INFO[d.kernel].f16 && bindsAt(d, n) === 1);
    }),
  );
  if (!halved.size) return low;
  return {
    ...low,
    weights: low.weights.map((w) => (halved.has(w.name) ? { ...w, dtype: 'f16' } : w)),
    dispatches: low.dispatches.map((d) =>
      d.bindings.some((b) => b.kind === 'weight' && halved.has(b.name)) ? { ...d, spec: { ...d.spec, F16: 1 } } : d,
    ),
  };
}
