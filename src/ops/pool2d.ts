// Max and average pooling over NHWC windows, and global pooling.
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { assertRank, ELEMENTWISE_WG, grid1d, type Shape } from './grid.js';
import { elementwiseLowering, type LowerContext, type Lowering } from './lowering.js';
import { windows2d, type Padding } from './padding.js';

export interface Pool2dAttrs {
  kind: 'max' | 'avg';
  size: readonly [number, number];
  /** Defaults to the pool size, as in Keras. */
  strides?: readonly [number, number];
  /**
   * 'valid', 'same' (TensorFlow's rule) or explicit [top, bottom, left, right]
   * (Darknet's rule: src/darknet/sections.ts).
   */
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

export function planPool2d(x: Shape, attrs: Pool2dAttrs, caps: DeviceCaps): Dispatch {
  const g = poolGeometry(x, attrs);
  return {
    kernel: 'pool2d',
    spec: { WG: ELEMENTWISE_WG },
    params: {
      n: g.n,
      h: g.h,
      w: g.w,
      c: g.c,
      oh: g.oh,
      ow: g.ow,
      kh: attrs.size[0],
      kw: attrs.size[1],
      stride_h: g.strides[0],
      stride_w: g.strides[1],
      pad_top: g.padTop,
      pad_left: g.padLeft,
      is_max: attrs.kind === 'max' ? 1 : 0,
    },
    workgroups: grid1d(g.n * g.oh * g.ow * g.c, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

/** Global pooling NHWC → [n, c]. */
export function planGlobalPool(x: Shape, kind: 'max' | 'avg', caps: DeviceCaps): Dispatch {
  assertRank('global-pool', 'input', x, 4);
  const [n, h, w, c] = x;
  return {
    kernel: 'global-pool',
    spec: { WG: ELEMENTWISE_WG },
    params: { n, hw: h * w, c, is_max: kind === 'max' ? 1 : 0 },
    workgroups: grid1d(n * c, ELEMENTWISE_WG, caps),
    bindings: [input(0), output],
  };
}

export const globalPoolOutputShape = (x: Shape): [number, number] => [x[0], x[3]];

export function lowerPool2d(op: { attrs: Pool2dAttrs }, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  return elementwiseLowering(pool2dOutputShape(x, op.attrs), planPool2d(x, op.attrs, ctx.caps));
}

export function lowerGlobalPool(op: { pool: 'max' | 'avg'; keepDims: boolean }, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const [n, c] = globalPoolOutputShape(x);
  return elementwiseLowering(op.keepDims ? [n, 1, 1, c] : [n, c], planGlobalPool(x, op.pool, ctx.caps));
}
