// Max and average pooling over NHWC windows, and global pooling.
import { assertRank, ELEMENTWISE_WG, grid1d, sizeOf, type DeviceCaps, type KernelCall, type Shape } from './kernel-call.js';
import { windows2d, type Padding } from './padding.js';

export interface Pool2dAttrs {
  kind: 'max' | 'avg';
  size: readonly [number, number];
  /** Defaults to the pool size, as in Keras. */
  strides?: readonly [number, number];
  /** 'valid', 'same' (TensorFlow's rule) or explicit [top, bottom, left, right] (Darknet's rule: src/darknet/sections.ts). */
  padding?: Padding;
}

function poolGeometry(x: Shape, attrs: Pool2dAttrs) {
  assertRank('pool2d', 'input', x, 4);
  const [n, h, w, c] = x;
  const strides = attrs.strides ?? attrs.size;
  const win = windows2d(h, w, attrs.size, strides, [1, 1], attrs.padding ?? 'valid');
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
