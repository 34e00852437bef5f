// Max and average pooling over NHWC windows, and global pooling.
import { assertRank, ELEMENTWISE_WG, grid1d, sizeOf, type DeviceCaps, type KernelCall, type Shape } from './kernel-call.js';
import { windows2d, type Padding } from './padding.js';

export interface Pool2dAttrs {
  kind: 'max' | 'avg';
  size: readonly [number, number];
  /** Defaults to the pool size, as in Keras. */
  strides?: readonly [number, number];
  /**
   * 'valid', 'same' (TensorFlow's rule), explicit [top, bottom, left, right], or 'darknet': total padding
   * size-1 with padding/2 before, so size 2 stride 1 keeps the size with the pad at bottom/right.
   */
  padding?: Padding | 'darknet';
}

function resolvePadding(h: number, w: number, attrs: Pool2dAttrs, strides: readonly [number, number]): Padding {
  if (attrs.padding !== 'darknet') return attrs.padding ?? 'valid';
  const [kh, kw] = attrs.size;
  // Darknet: out = (in + pad - size)/stride + 1 with the window origin at i*stride - pad/2.
  const axis = (size: number, k: number, s: number) => {
    const pad = k - 1;
    const before = Math.floor(pad / 2);
    const out = Math.floor((size + pad - k) / s) + 1;
    return [before, (out - 1) * s + k - size - before] as const;
  };
  const [t, b] = axis(h, kh, strides[0]);
  const [l, r] = axis(w, kw, strides[1]);
  return [t, Math.max(b, 0), l, Math.max(r, 0)];
}

function poolGeometry(x: Shape, attrs: Pool2dAttrs) {
  assertRank('pool2d', 'input', x, 4);
  const [n, h, w, c] = x;
  const strides = attrs.strides ?? attrs.size;
  const win = windows2d(h, w, attrs.size, strides, [1, 1], resolvePadding(h, w, attrs, strides));
  return { n, h, w, c, strides, ...win };
}

export function pool2dOutputShape(x: Shape, attrs: Pool2dAttrs): [number, number, number, number] {
  const g = poolGeometry(x, attrs);
  return [g.n, g.oh, g.ow, g.c];
}

/** Bindings: x → y. */
export function planPool2d(x: Shape, attrs: Pool2dAttrs, caps: DeviceCaps): KernelCall {
  const g = poolGeometry(x, attrs);
  return {
    kernel: 'pool2d',
    spec: { WG: ELEMENTWISE_WG },
    params: {
      n: g.n, h: g.h, w: g.w, c: g.c, oh: g.oh, ow: g.ow, kh: attrs.size[0], kw: attrs.size[1],
      stride_h: g.strides[0], stride_w: g.strides[1], pad_top: g.padTop, pad_left: g.padLeft,
      is_max: attrs.kind === 'max' ? 1 : 0,
    },
    workgroups: grid1d(g.n * g.oh * g.ow * g.c, ELEMENTWISE_WG, caps),
    bindings: ['x', 'y'],
  };
}

/** Global pooling NHWC → [n, c]. Bindings: x → y. */
export function planGlobalPool(x: Shape, kind: 'max' | 'avg', caps: DeviceCaps): KernelCall {
  assertRank('global-pool', 'input', x, 4);
  const [n, h, w, c] = x;
  return {
    kernel: 'global-pool',
    spec: { WG: ELEMENTWISE_WG },
    params: { n, hw: h * w, c, is_max: kind === 'max' ? 1 : 0 },
    workgroups: grid1d(n * c, ELEMENTWISE_WG, caps),
    bindings: ['x', 'y'],
  };
}

export const globalPoolOutputShape = (x: Shape): [number, number] => [x[0], x[3]];
