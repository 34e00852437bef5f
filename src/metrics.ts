// The one error metric of the project, used by `webgpu-cnn validate`, the tests and the benchmarks:
// the largest absolute difference, and it relative to the reference's magnitude.

export interface ErrorMetrics {
  maxAbs: number;
  /** Index of the largest difference (-1 when there is none). */
  worstIndex: number;
  /** max |expected|. */
  scale: number;
  /** maxAbs / max |expected| (maxAbs itself when the reference is all zeros). */
  relative: number;
  /** maxAbs / max(1, max |expected|): for sums whose error grows with their magnitude, absolute near zero. */
  normalized: number;
}

/** Compares `actual` with `expected` element by element; a NaN difference counts as the worst. */
export function compareArrays(actual: ArrayLike<number>, expected: ArrayLike<number>): ErrorMetrics {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxAbs = 0,
    scale = 0,
    worstIndex = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxAbs)) {
      maxAbs = d;
      worstIndex = i;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { maxAbs, worstIndex, scale, relative: maxAbs / (scale || 1), normalized: maxAbs / Math.max(1, scale) };
}
