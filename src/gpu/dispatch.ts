// The contract between the planners (src/ops/) and the runtime: one Dispatch per kernel launch, with its
// buffers as typed references into the node being computed (an input value, one of its weights, a scratch
// buffer, its output), never as names agreed by convention. Also what planners may know about the device.
import type { ParamValues } from './params.js';
import type { KernelName } from './shaders.js';
import type { Spec } from './specialize.js';

/** What a binding of a dispatch refers to, within the node (or eager call) the dispatch belongs to. */
export type Binding =
  | { kind: 'input'; index: number }
  /** A weight the node's lowering declares (`part` for one of a weight split into binding-sized blocks). */
  | { kind: 'weight'; name: string; part?: number }
  | { kind: 'scratch'; index: number }
  | { kind: 'output' };

export const input = (index = 0): Binding => ({ kind: 'input', index });
export const weight = (name: string, part?: number): Binding =>
  part === undefined ? { kind: 'weight', name } : { kind: 'weight', name, part };
export const scratch = (index: number): Binding => ({ kind: 'scratch', index });
export const output: Binding = { kind: 'output' };

/** One kernel launch: which kernel, how specialised, its params, its grid, and its buffers in binding order. */
export interface Dispatch {
  kernel: KernelName;
  spec: Spec;
  params: ParamValues;
  workgroups: [number, number, number];
  /** Bound to @binding(0…) in order; the params uniform comes after them. */
  bindings: Binding[];
}

/** A register-blocked (or vec4 / workgroup-tiled / subgroup) tile configuration of the GEMM and conv kernels. */
export interface TileVariant {
  kind?: 'register' | 'vec4' | 'tiled' | 'subgroup';
  tm: number;
  tn: number;
  wgX: number;
  wgY: number;
  tk?: number;
}

/** What a planner needs to know about the device (taken from the requested limits). */
export interface DeviceCaps {
  maxWorkgroupsPerDimension: number;
  maxInvocationsPerWorkgroup: number;
  maxStorageBindingBytes: number;
  /**
   * The smallest subgroup the device may run, when it has the subgroups feature (else absent): the
   * subgroup kernels share values across 8 lanes and need at least that many.
   */
  subgroupMinSize?: number;
  /**
   * A software adapter (lavapipe, SwiftShader): workgroups run on CPU threads with SIMD lanes, so small
   * workgroups that stream memory beat the wide ones a GPU needs for occupancy.
   */
  software?: boolean;
  /**
   * The shader compiler runs constant-bound loops as loops (SwiftShader): kernels' `// @unroll` tile
   * loops are then written out before compiling (unroll.ts). Elsewhere the driver unrolls them itself,
   * and cheaper: writing them out for lavapipe took Yolo-Fastest's first run from 2.3 to 30 s of compiling.
   */
  unrollLoops?: boolean;
  /** Variants measured fastest on this adapter, by tuning class (see src/tune/tuner.ts). */
  tuned?: Readonly<Record<string, TileVariant>>;
}

/** 'input 0', 'weight kernel', 'weight kernel[2]', 'scratch 1', 'output'. */
export const bindingName = (b: Binding) =>
  b.kind === 'input'
    ? `input ${b.index}`
    : b.kind === 'weight'
      ? `weight ${b.name}${b.part === undefined ? '' : `[${b.part}]`}`
      : b.kind === 'scratch'
        ? `scratch ${b.index}`
        : 'output';

/** For messages: "gemm-subgroup(input 0, weight kernel, weight bias, output)". */
export function describeDispatch(d: Dispatch): string {
  return `${d.kernel}(${d.bindings.map(bindingName).join(', ')})`;
}
