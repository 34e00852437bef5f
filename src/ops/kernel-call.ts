// The contract between ops and the runtime. An op is pure: from shapes and attributes it produces
// KernelCalls (which kernel, which specialisation, which params, how many workgroups, and which of
// its tensors go to which binding). Eager execution and the graph executor both consume these.
import type { KernelName } from '../gpu/shaders.js';
import type { Spec } from '../gpu/specialize.js';
import type { ParamValues } from '../gpu/params.js';

export interface KernelCall {
  kernel: KernelName;
  spec: Spec;
  params: ParamValues;
  workgroups: [number, number, number];
  /** Tensor roles bound to @binding(0…) in order: inputs, then the output last; the params uniform follows. */
  bindings: string[];
}

/** A register-blocked (or vec4 / workgroup-tiled) tile configuration of the GEMM and conv kernels. */
export interface TileVariant {
  kind?: 'register' | 'vec4' | 'tiled' | 'subgroup';
  tm: number;
  tn: number;
  wgX: number;
  wgY: number;
  tk?: number;
}

/** What an op needs to know about the device to plan (taken from the requested limits). */
export interface DeviceCaps {
  maxWorkgroupsPerDimension: number;
  maxInvocationsPerWorkgroup: number;
  maxStorageBindingBytes: number;
  /**
   * The smallest subgroup the device may run, when it has the subgroups feature (else absent): the
   * subgroup GEMM shares A across 8 lanes and needs at least that many.
   */
  subgroupMinSize?: number;
  /** Variants measured fastest on this adapter, by shape class (see src/tools/tuner.ts). */
  tuned?: Readonly<Record<string, TileVariant>>;
}

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Workgroups for a 1-D launch of `total` invocations, folded into y past the per-dimension limit. */
export function grid1d(total: number, workgroupSize: number, caps: DeviceCaps): [number, number, number] {
  const groups = Math.max(1, Math.ceil(total / workgroupSize));
  const x = Math.min(groups, caps.maxWorkgroupsPerDimension);
  const y = Math.ceil(groups / x);
  if (y > caps.maxWorkgroupsPerDimension) {
    throw new Error(`launch of ${total} invocations exceeds the device's workgroup grid`);
  }
  return [x, y, 1];
}

export function checkGrid(op: string, grid: [number, number, number], caps: DeviceCaps): [number, number, number] {
  if (grid.some((g) => g > caps.maxWorkgroupsPerDimension)) {
    throw new Error(`${op}: grid ${grid.join('×')} exceeds maxComputeWorkgroupsPerDimension ${caps.maxWorkgroupsPerDimension}`);
  }
  return grid;
}

export function assertRank(op: string, what: string, shape: Shape, rank: number): void {
  if (shape.length !== rank) throw new Error(`${op}: ${what} must have rank ${rank}, got shape [${shape.join(', ')}]`);
}

export const ELEMENTWISE_WG = 64;
