// Shapes and launch grids, shared by every planner. Planners throw plain Errors for shapes that do not fit
// (the graph's lowering adds the layer and file) and TensorTooLargeError for what the device cannot launch.
import { TensorTooLargeError } from '../errors.js';
import type { DeviceCaps } from '../gpu/dispatch.js';

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
    throw new TensorTooLargeError(`a launch of ${total} invocations exceeds the device's workgroup grid`);
  }
  return [x, y, 1];
}

/**
 * An x × y grid whose y may exceed the per-dimension limit (a conv over many pixels: VGG16 at batch 32, an
 * image of 1024²): y is folded into z, and the kernel reads its y block as wg.y + wg.z·num_workgroups.y,
 * returning for the blocks past the end.
 */
export function foldGridY(op: string, x: number, y: number, caps: DeviceCaps): [number, number, number] {
  const max = caps.maxWorkgroupsPerDimension;
  const z = Math.ceil(y / max);
  return checkGrid(op, [x, Math.ceil(y / z), z], caps);
}

export function checkGrid(op: string, grid: [number, number, number], caps: DeviceCaps): [number, number, number] {
  if (grid.some((g) => g > caps.maxWorkgroupsPerDimension)) {
    throw new TensorTooLargeError(
      `${op}: grid ${grid.join('×')} exceeds maxComputeWorkgroupsPerDimension ${caps.maxWorkgroupsPerDimension}`,
    );
  }
  return grid;
}

export function assertRank(op: string, what: string, shape: Shape, rank: number): void {
  if (shape.length !== rank) throw new Error(`${op}: ${what} must have rank ${rank}, got shape [${shape.join(', ')}]`);
}

export const ELEMENTWISE_WG = 64;
