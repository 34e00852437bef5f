// Output size and per-side padding for a sliding window along one axis.

/** 'same' follows TensorFlow: out = ceil(in / stride), the odd padding pixel goes after (bottom/right). */
export type PaddingMode = 'valid' | 'same';
/** Explicit pads: [top, bottom, left, right]. */
export type ExplicitPadding = readonly [number, number, number, number];
export type Padding = PaddingMode | ExplicitPadding;

export interface AxisWindow {
  out: number;
  before: number;
  after: number;
}

export function windowAxis(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  mode: PaddingMode | readonly [number, number],
): AxisWindow {
  const span = (kernel - 1) * dilation + 1;
  let before: number, after: number, out: number;
  if (mode === 'same') {
    out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    before = Math.floor(total / 2);
    after = total - before;
  } else {
    [before, after] = mode === 'valid' ? [0, 0] : mode;
    out = Math.floor((size + before + after - span) / stride) + 1;
  }
  if (out < 1)
    throw new Error(
      `window of ${span} (kernel ${kernel}, dilation ${dilation}) ` +
        `does not fit an axis of ${size} with padding ${before}+${after}`,
    );
  return { out, before, after };
}

export function windows2d(
  h: number,
  w: number,
  k: readonly [number, number],
  s: readonly [number, number],
  d: readonly [number, number],
  padding: Padding,
): { oh: number; ow: number; padTop: number; padLeft: number } {
  const ph = typeof padding === 'string' ? padding : ([padding[0], padding[1]] as const);
  const pw = typeof padding === 'string' ? padding : ([padding[2], padding[3]] as const);
  const y = windowAxis(h, k[0], s[0], d[0], ph);
  const x = windowAxis(w, k[1], s[1], d[1], pw);
  return { oh: y.out, ow: x.out, padTop: y.before, padLeft: x.before };
}
