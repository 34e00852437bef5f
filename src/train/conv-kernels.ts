// The backward kernels of a convolutional block (for fine-tuning a base's last block): the gradients of
// a convolution's input and kernel, of max pooling, and of global average/max pooling, as dispatches.
// The bias gradient is bias-grad over the n·oh·ow rows, ReLU's is relu-backward.
import { input, output, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { grid1d } from '../ops/grid.js';
import { windows2d, type Padding } from '../ops/padding.js';

const WG = 64;

/** A convolution's geometry: input NHWC, kernel HWIO, strides, dilations, padding. */
export interface ConvGeometry {
  input: readonly [number, number, number, number];
  kernel: readonly [number, number, number, number];
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
  padding: Padding;
}

function convParams(g: ConvGeometry) {
  const [n, h, w, c] = g.input;
  const [kh, kw, , oc] = g.kernel;
  const s = g.strides ?? [1, 1],
    d = g.dilations ?? [1, 1];
  const { oh, ow, padTop, padLeft } = windows2d(h, w, [kh, kw], s, d, g.padding);
  return {
    n,
    h,
    w,
    c,
    oh,
    ow,
    oc,
    kh,
    kw,
    stride_h: s[0],
    stride_w: s[1],
    dil_h: d[0],
    dil_w: d[1],
    pad_top: padTop,
    pad_left: padLeft,
  };
}

/** dx of a convolution (inputs dy, w; output dx, shaped like its input). */
export function convBackwardInputDispatch(g: ConvGeometry, caps: DeviceCaps): Dispatch {
  const params = convParams(g);
  return {
    kernel: 'conv2d-backward-input',
    spec: {},
    params,
    bindings: [input(0), input(1), output],
    workgroups: grid1d(params.n * params.h * params.w * params.c, WG, caps),
  };
}

/** dw of a convolution, summed over the batch (inputs x, dy; output dw, shaped like the kernel). */
export function convBackwardWeightDispatch(g: ConvGeometry, caps: DeviceCaps): Dispatch {
  const params = convParams(g);
  return {
    kernel: 'conv2d-backward-weight',
    spec: {},
    params,
    bindings: [input(0), input(1), output],
    workgroups: grid1d(params.kh * params.kw * params.c * params.oc, WG, caps),
  };
}

/** dx of max pooling (inputs x, dy; output dx). */
export function maxPoolBackwardDispatch(
  x: readonly [number, number, number, number],
  pool: readonly [number, number],
  strides: readonly [number, number],
  padding: Padding,
  caps: DeviceCaps,
): Dispatch {
  const [n, h, w, c] = x;
  const { oh, ow, padTop, padLeft } = windows2d(h, w, pool, strides, [1, 1], padding);
  return {
    kernel: 'maxpool-backward',
    spec: {},
    bindings: [input(0), input(1), output],
    params: {
      n,
      h,
      w,
      c,
      oh,
      ow,
      kh: pool[0],
      kw: pool[1],
      stride_h: strides[0],
      stride_w: strides[1],
      pad_top: padTop,
      pad_left: padLeft,
    },
    workgroups: grid1d(n * h * w * c, WG, caps),
  };
}

/** dx of global pooling over height and width (inputs x, dy [n, c]; output dx). */
export function globalPoolBackwardDispatch(
  x: readonly [number, number, number, number],
  pooling: 'avg' | 'max',
  caps: DeviceCaps,
): Dispatch {
  const [n, h, w, c] = x;
  return {
    kernel: 'global-pool-backward',
    spec: {},
    bindings: [input(0), input(1), output],
    params: { n, hw: h * w, c, is_max: pooling === 'max' ? 1 : 0 },
    workgroups: grid1d(n * h * w * c, WG, caps),
  };
}
